package monitor

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// watchdogState follows the override of one attached scheduler.
type watchdogState struct {
	rep      *WatchdogReport
	sch      uint64 // the scx_sched the override was applied to
	bridging bool
	fired    bool
	// suspect is a stalled task seen in the last sample; it must be seen
	// again, unchanged, before the monitor acts (the lists are read
	// without the kernel's locks).
	suspect stalled
}

// stalled is a task found runnable for too long.
type stalled struct {
	task, at uint64
	desc     string
}

// watchdog applies the watchdog override to a newly attached scheduler
// and, while the kernel's watchdog work still waits out the scheduler's
// own (longer) interval, keeps the tick watchdog quiet and checks for
// stalled tasks itself, the way the kernel's work would.
//
// The kernel keeps the timeout in scx_sched.watchdog_timeout (jiffies) and
// runs its check from a delayed work every scx_watchdog_interval; the
// tick ejects the scheduler when that work has not run for a whole
// timeout ("watchdog failed to check in"). Writing a shorter timeout and
// interval takes effect when the queued work next runs, which may be up
// to half the old timeout away; until then the monitor refreshes the
// work's timestamp, and when it sees a task runnable for longer than the
// new timeout it lets the tick watchdog fire at once.
func (s *Sampler) watchdog(sch uint64, smp Sample) {
	w := &s.wd
	if w.rep == nil || s.hz == 0 {
		return
	}
	tr, l, sym := s.tr, s.cfg.Layout, s.cfg.Symbols
	want := uint64(s.cfg.WatchdogTimeout.Seconds() * float64(s.hz))
	want = max(want, 1)
	if sch != w.sch {
		w.sch, w.bridging, w.fired = sch, false, false
		cur, err := tr.U64(sch + uint64(l.SchedWatchdogTimeout))
		if err != nil {
			w.rep.Note = fmt.Sprintf("reading the scheduler's watchdog timeout: %v", err)
			return
		}
		w.rep.OriginalJiffies, w.rep.HZ = cur, s.hz
		if cur <= want {
			w.rep.Note = fmt.Sprintf("the scheduler's own timeout (%d jiffies) is not longer than the requested one; left alone", cur)
			return
		}
		if err := s.write64(sch+uint64(l.SchedWatchdogTimeout), want); err != nil {
			w.rep.Note = fmt.Sprintf("writing the watchdog timeout: %v", err)
			return
		}
		if iv, err := tr.U64(sym["scx_watchdog_interval"]); err == nil && iv > max(want/2, 1) {
			s.write64(sym["scx_watchdog_interval"], max(want/2, 1))
		}
		at := 0.0
		if ij := initialJiffies(s.hz); smp.Jiffies >= ij {
			at = float64(smp.Jiffies-ij) * 1000 / float64(s.hz)
		}
		w.rep.Applied, w.rep.WrittenJiffies, w.rep.AtGuestMs, w.rep.Note = true, want, at, ""
		w.bridging = true
	}
	if !w.bridging || w.fired {
		return
	}
	// Still on the old interval? The work's timer expiry says.
	exp, err := tr.U64(sym["scx_watchdog_work"] + uint64(l.DelayedWorkExpires))
	if err != nil || int64(exp-smp.Jiffies) <= int64(max(want/2, 1)+uint64(s.hz)/5) {
		w.bridging = false
		return
	}
	w.rep.Bridged = true
	st := s.stalledTask(want, smp.Jiffies)
	if st.task != 0 && st.task == w.suspect.task && st.at == w.suspect.at {
		// Seen twice: make the next tick see a watchdog that has not
		// checked in.
		s.write64(sym["scx_watchdog_timestamp"], smp.Jiffies-want-1)
		w.rep.Stalled, w.fired = st.desc, true
		return
	}
	w.suspect = st
	s.write64(sym["scx_watchdog_timestamp"], smp.Jiffies)
}

func (s *Sampler) write64(va, v uint64) error {
	pa, err := s.tr.PA(va)
	if err != nil {
		return err
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return s.cfg.Mem.WriteAt(b[:], pa)
}

// stalledTask walks every CPU's sched_ext runnable list and returns a
// task runnable for longer than timeout jiffies, as the kernel's watchdog
// would find it (check_rq_for_timeouts). The lists are read without the
// kernel's locks, so what is read must look like a task: a direct-map
// address, a pid in range, a runnable_at since boot and not in the future.
func (s *Sampler) stalledTask(timeout, now uint64) stalled {
	l := s.cfg.Layout
	if !l.HasRunnableList {
		return stalled{}
	}
	boot := initialJiffies(s.hz)
	for cpu, off := range s.percpu {
		head := s.rqVA + off + uint64(l.RqRunnableList)
		node, err := s.tr.U64(head)
		for n := 0; err == nil && node != head && n < 8192; n++ {
			if !s.directMap(node) {
				break
			}
			task := node - uint64(l.TaskRunnableNode)
			at, e1 := s.tr.U64(task + uint64(l.TaskRunnableAt))
			pid, e2 := s.tr.U32(task + uint64(l.TaskPID))
			if e1 != nil || e2 != nil || pid == 0 || pid > 4194304 || at < boot || at > now {
				break
			}
			if now-at > timeout {
				comm := make([]byte, 16)
				s.tr.Read(comm, task+uint64(l.TaskComm))
				name := strings.TrimRight(string(comm), "\x00")
				if i := strings.IndexByte(name, 0); i >= 0 {
					name = name[:i]
				}
				return stalled{task: task, at: at, desc: fmt.Sprintf("%q[%d] on cpu %d, runnable for %.2fs", name, pid, cpu, float64(now-at)/float64(s.hz))}
			}
			node, err = s.tr.U64(node)
		}
	}
	return stalled{}
}

// directMap reports whether va is in the kernel's direct map, where
// task_structs live.
func (s *Sampler) directMap(va uint64) bool {
	size := uint64(directMap4Size)
	if s.tr.Levels == 5 {
		size = directMap5Size
	}
	return va >= s.tr.PageOffset && va < s.tr.PageOffset+size
}
