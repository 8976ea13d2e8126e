package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/digitalocean/go-qemu/qmp"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// powerOffGrace is how long a guest that sent its final message has to
// power off.
const powerOffGrace = 30 * time.Second

// Wait lets the guest run and waits for the end of the run: the guest's
// final message followed by its power-off, or a failure, reported at
// once: a panic (console, SHUTDOWN or GUEST_PANICKED), QEMU stopping the
// VM (STOP: an accelerator's internal error, a pause), QEMU exiting, the
// caller's context; the timeout is left for a guest that runs but never
// finishes. QEMU is gone when Wait returns.
func (vm *VM) Wait(ctx context.Context) (*Outcome, error) {
	defer vm.Close()
	defer vm.monitorFinish()
	out := vm.out
	if _, err := vm.QMP(`{"execute":"cont"}`); err != nil {
		return out, vm.fail(FailQEMU, "QMP cont", err)
	}
	out.Timing.Cont = time.Since(vm.started)
	record := func(m *wire.Message, at time.Time) {
		out.record(m)
		out.Timing.message(m, at)
		vm.monitorOnMessage(m)
		if vm.cfg.OnMessage != nil {
			vm.cfg.OnMessage(*m)
		}
	}
	var grace <-chan time.Time // after the final message: wait for power-off
	for {
		select {
		case e := <-vm.ev:
			switch {
			case e.msg != nil:
				record(e.msg, e.at)
				if e.msg.Kind == wire.KindDone {
					grace = time.After(powerOffGrace)
				}
			case e.err != nil:
				vm.logs.qmpf("result channel: %v", e.err)
			case e.qmp != nil:
				if done, err := vm.onQMPEvent(*e.qmp, record); done {
					return out, err
				}
			}
		case <-vm.proc.exited:
			drainResults(vm.ev, record, 100*time.Millisecond)
			return out, vm.fail(FailQEMU, "QEMU exited before the guest finished", vm.proc.exitErr())
		case <-grace:
			return out, vm.fail(FailTimeout, fmt.Sprintf("guest sent its final message but did not power off within %v", powerOffGrace), nil)
		case <-vm.deadline.C:
			return out, vm.fail(FailTimeout, fmt.Sprintf("no result within %v (%s)", out.Timeout, out.Accel), nil)
		case <-ctx.Done():
			return out, vm.fail(FailCancelled, "run cancelled", ctx.Err())
		}
	}
}

// onQMPEvent acts on a QMP event; done is true when the run is over.
func (vm *VM) onQMPEvent(e qmpEv, record func(*wire.Message, time.Time)) (done bool, err error) {
	out := vm.out
	switch e.name {
	case "SHUTDOWN":
		out.Timing.Shutdown = time.Since(vm.started)
		out.ShutdownReason = e.reason
		if out.Done == nil {
			// Init sends its final message before it powers off: one
			// not yet read may still be on its way.
			drainResults(vm.ev, record, 300*time.Millisecond)
		}
		vm.QMP(`{"execute":"quit"}`)
		vm.proc.wait(5 * time.Second)
		out.Timing.Exit = vm.proc.exitedAt.Sub(vm.started)
		out.Elapsed = time.Since(vm.started)
		out.ConsoleTail = vm.console.tail()
		switch {
		case e.reason != "guest-shutdown":
			return true, vm.fail(FailPanic, fmt.Sprintf("guest reset or crashed (QEMU SHUTDOWN reason %q)", e.reason), nil)
		case out.Done == nil:
			return true, vm.fail(FailNoResult, "guest powered off without sending its final message", nil)
		}
		return true, nil
	case "GUEST_PANICKED":
		return true, vm.fail(FailPanic, fmt.Sprintf("the guest kernel panicked (pvpanic; QEMU action %q)", e.reason), nil)
	case "STOP":
		status := vm.status()
		kind, detail, stopped := stopVerdict(status)
		if !stopped {
			return false, nil
		}
		if msg := qemuMessage(vm.console.tail()); msg != "" {
			detail += ": " + msg
		}
		return true, vm.fail(kind, detail, nil)
	}
	return false, nil
}

// status is QEMU's run state (query-status), or why it is unknown.
func (vm *VM) status() string {
	return parseStatus(vm.QMP(`{"execute":"query-status"}`))
}

// parseStatus reads the run state out of a query-status answer.
func parseStatus(b []byte, err error) string {
	if err != nil {
		return "unknown (query-status: " + err.Error() + ")"
	}
	var r struct {
		Return struct {
			Status string `json:"status"`
		} `json:"return"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Return.Status == "" {
		return fmt.Sprintf("unknown (query-status answered %.200s)", b)
	}
	return r.Return.Status
}

// stopVerdict says what a STOP event with QEMU's run state status means
// for the run: stopped is false when the guest can still finish (it runs
// again, or it is shutting down and SHUTDOWN tells the rest).
func stopVerdict(status string) (kind FailureKind, detail string, stopped bool) {
	switch status {
	case "running", "shutdown":
		return "", "", false
	case "guest-panicked":
		return FailPanic, "the guest kernel panicked and QEMU paused it (status guest-panicked)", true
	case "internal-error":
		return FailStopped, "QEMU stopped the VM on an internal error of the accelerator (status internal-error)", true
	case "io-error":
		return FailStopped, "QEMU stopped the VM on an I/O error (status io-error)", true
	case "paused":
		return FailStopped, "the VM was paused (a QMP stop, or QEMU pausing it) and can make no progress (status paused)", true
	}
	return FailStopped, fmt.Sprintf("QEMU stopped the VM (status %s)", status), true
}

// qemuMessage picks QEMU's own complaint out of the console (QEMU's
// stderr goes there too): its last "qemu-system..." line, or a KVM
// internal error.
func qemuMessage(tail string) string {
	lines := strings.Split(tail, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.Contains(l, "KVM internal error") || strings.HasPrefix(l, "qemu-system") || strings.HasPrefix(l, "qemu:") {
			return l
		}
	}
	return ""
}

// fail ends the run with a *BootError carrying the console tail.
func (vm *VM) fail(kind FailureKind, detail string, err error) error {
	vm.proc.kill()
	out := vm.out
	out.Elapsed = time.Since(vm.started)
	out.ConsoleTail = vm.console.tail()
	if kind == FailNoResult && vm.console.panicked() {
		kind = FailPanic
	}
	return &BootError{Kind: kind, Detail: detail, Err: err, ConsoleTail: out.ConsoleTail}
}

// event is one thing the wait loop hears about: a result-channel message
// or error, or a QMP event.
type event struct {
	msg *wire.Message
	// at is when msg arrived.
	at  time.Time
	err error
	qmp *qmpEv
}

// qmpEv is a QMP event that can end a run.
type qmpEv struct {
	name string
	// reason is SHUTDOWN's reason or GUEST_PANICKED's action.
	reason string
}

// qmpEvent keeps the events the wait loop acts on.
func qmpEvent(e qmp.Event) *qmpEv {
	switch e.Event {
	case "SHUTDOWN":
		r, _ := e.Data["reason"].(string)
		return &qmpEv{name: e.Event, reason: r}
	case "GUEST_PANICKED":
		a, _ := e.Data["action"].(string)
		return &qmpEv{name: e.Event, reason: a}
	case "STOP":
		return &qmpEv{name: e.Event}
	}
	return nil
}

// drainResults records messages still in flight after a shutdown, for
// at most wait; it ends early with the final message.
func drainResults(ev chan event, record func(*wire.Message, time.Time), wait time.Duration) {
	t := time.After(wait)
	for {
		select {
		case e := <-ev:
			if e.msg != nil {
				record(e.msg, e.at)
				if e.msg.Kind == wire.KindDone {
					return
				}
			}
		case <-t:
			return
		}
	}
}

func acceptResults(ln net.Listener, ev chan<- event) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		at := time.Now()
		if len(line) == 0 {
			continue
		}
		var m wire.Message
		if err := json.Unmarshal(line, &m); err != nil {
			ev <- event{err: fmt.Errorf("bad message %.200q: %w", line, err)}
			continue
		}
		ev <- event{msg: &m, at: at}
	}
}
