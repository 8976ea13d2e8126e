package workload

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// This file holds the work loops of the types beyond plain spinning. Each
// runs until stopped is set and returns its report; the caller adds the
// scheduler counters.

// Group file descriptors, passed by the parent (see StartGroup): a pair's
// pipe ends, or a group's shared page.
const (
	fdPipeIn  = 3 // a pair type's read end (the partner's tokens)
	fdPipeOut = 4 // its write end (tokens to the partner)
	fdShared  = 3 // a futex type's shared page (a memfd)
)

// futex(2) operations; the page is shared between processes, so not the
// _PRIVATE ones.
const (
	futexWait = 0
	futexWake = 1
)

// waitSlice bounds one blocking wait, so that a worker whose partner has
// stopped still sees its own stop flag.
const waitSlice = 100 * time.Millisecond

// ioBlock and ioBlocks make IoSync's file: 16 writes of 4 KiB.
const (
	ioBlock  = 4096
	ioBlocks = 16
	ioSleep  = 100 * time.Microsecond
)

// monoNs is CLOCK_MONOTONIC in nanoseconds: one clock for every process
// of the guest, so a partner's timestamp can be compared with ours.
func monoNs() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// woken records a wake-up: the latency since the wake-up was due (dueNs,
// CLOCK_MONOTONIC), and restarts the gap clock there, since the wait
// itself is not a scheduling gap.
func (p *progress) woken(dueNs int64) {
	now := time.Now()
	lat := time.Duration(max(monoNs()-dueNs, 0))
	p.lat.add(float64(lat))
	p.last = now.Add(-lat)
	p.mark(now)
}

// sleepFor sleeps d with a raw nanosleep (the Go runtime's timers would
// become part of the measured wake-up) and records the wake-up.
func (p *progress) sleepFor(d time.Duration) {
	due := monoNs() + int64(d)
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
	p.woken(due)
}

// yield calls sched_yield; with sample, the time it took is a sample.
func (p *progress) yield(sample bool) {
	start := monoNs()
	unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	if sample {
		p.woken(start)
	}
}

// spinSteps does n steps of arithmetic, a unit per block.
func (p *progress) spinSteps(n int) {
	for n > 0 {
		p.unit()
		n -= blockIters
	}
}

// cacheBuf is a buffer walked with a stride, a read-modify-write a step.
type cacheBuf struct {
	buf    []byte
	idx    int
	stride int
}

func newCacheBuf(sizeKB, stride int) *cacheBuf {
	return &cacheBuf{buf: make([]byte, sizeKB*1024), stride: stride}
}

// walk does n steps and counts them as one unit.
func (c *cacheBuf) walk(p *progress, n int) {
	if len(c.buf) > 0 && c.stride > 0 {
		for range n {
			c.buf[c.idx]++
			c.idx = (c.idx + c.stride) % len(c.buf)
		}
	}
	p.rep.WorkUnits++
	p.n++
	p.mark(time.Now())
}

func mixed(stopped *atomic.Bool, start time.Time) wire.WorkerReport {
	p := newProgress(start)
	for !stopped.Load() {
		p.unit()
		p.unit()
		p.yield(false)
		p.rep.Iterations++
	}
	return p.finish()
}

// ioFile is IoSync's file, rewritten every iteration.
type ioFile struct {
	fd   int
	path string
	zero []byte
}

func openIOFile(tag string) (*ioFile, error) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("ktstr_%s_%d", tag, os.Getpid()))
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("io file: %w", err)
	}
	return &ioFile{fd: fd, path: path, zero: make([]byte, ioBlock)}, nil
}

// iteration truncates the file, writes it anew (a unit a block), and
// sleeps ioSleep in place of waiting for the device.
func (f *ioFile) iteration(p *progress) {
	unix.Ftruncate(f.fd, 0)
	for i := range ioBlocks {
		unix.Pwrite(f.fd, f.zero, int64(i*ioBlock))
		p.rep.WorkUnits++
		p.n++
		p.mark(time.Now())
	}
	p.sleepFor(ioSleep)
}

func (f *ioFile) close() {
	unix.Close(f.fd)
	os.Remove(f.path)
}

func ioSync(stopped *atomic.Bool, start time.Time) (wire.WorkerReport, error) {
	f, err := openIOFile("io")
	if err != nil {
		return wire.WorkerReport{}, err
	}
	defer f.close()
	p := newProgress(start)
	for !stopped.Load() {
		f.iteration(p)
		p.rep.Iterations++
	}
	return p.finish(), nil
}

func cachePressure(stopped *atomic.Bool, start time.Time, prm Params, yield bool) wire.WorkerReport {
	p := newProgress(start)
	c := newCacheBuf(prm.SizeKB, prm.Stride)
	for !stopped.Load() {
		c.walk(p, 1024)
		if yield {
			p.yield(true)
		}
		p.rep.Iterations++
	}
	return p.finish()
}

// exchange sends the partner a token (our CLOCK_MONOTONIC time) and
// takes the partner's. When the partner's token was not there yet, the
// worker blocked, and how late it ran after the partner wrote is a
// wake-latency sample. It returns false once the partner is gone.
func exchange(p *progress, stopped *atomic.Bool) bool {
	var tok [8]byte
	binary.LittleEndian.PutUint64(tok[:], uint64(monoNs()))
	if _, err := unix.Write(fdPipeOut, tok[:]); err != nil {
		return false
	}
	fds := []unix.PollFd{{Fd: fdPipeIn, Events: unix.POLLIN}}
	blocked := false
	for {
		n, err := unix.Poll(fds, 0)
		if n > 0 {
			break
		}
		if err != nil && err != unix.EINTR {
			return false
		}
		if stopped.Load() {
			return false
		}
		blocked = true
		unix.Poll(fds, int(waitSlice/time.Millisecond))
	}
	if _, err := readFull(fdPipeIn, tok[:]); err != nil {
		return false
	}
	if blocked {
		p.woken(int64(binary.LittleEndian.Uint64(tok[:])))
	}
	return true
}

// readFull reads len(b) bytes from fd; io.EOF-like failure when the
// writer is gone.
func readFull(fd int, b []byte) (int, error) {
	got := 0
	for got < len(b) {
		n, err := unix.Read(fd, b[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return got, err
		}
		if n == 0 {
			return got, fmt.Errorf("partner closed its pipe")
		}
		got += n
	}
	return got, nil
}

func pipeIO(stopped *atomic.Bool, start time.Time, prm Params, cache bool) wire.WorkerReport {
	p := newProgress(start)
	var c *cacheBuf
	if cache {
		c = newCacheBuf(prm.SizeKB, 64)
	}
	for !stopped.Load() {
		if cache {
			c.walk(p, prm.BurstIters)
		} else {
			p.spinSteps(prm.BurstIters)
		}
		if !exchange(p, stopped) {
			break
		}
		p.rep.Iterations++
	}
	return p.finish()
}

// shared is a group's page: a futex word and the time of the last wake.
type shared struct {
	mem  []byte
	word *uint32
	ts   *int64
}

func mapShared() (*shared, error) {
	mem, err := unix.Mmap(fdShared, 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping the group's shared page: %w", err)
	}
	return &shared{mem: mem, word: (*uint32)(unsafe.Pointer(&mem[0])), ts: (*int64)(unsafe.Pointer(&mem[8]))}, nil
}

// wait blocks while the word is val, for at most waitSlice.
func (s *shared) wait(val uint32) {
	ts := unix.NsecToTimespec(int64(waitSlice))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(s.word)), futexWait, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// wake wakes up to n waiters.
func (s *shared) wake(n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(s.word)), futexWake, uintptr(n), 0, 0, 0)
}

// futexPingPong takes turns with its partner: the word says whose turn
// it is (member 0 starts); the one whose turn it is spins, then hands
// over and wakes the other.
func futexPingPong(stopped *atomic.Bool, start time.Time, prm Params, member int) (wire.WorkerReport, error) {
	s, err := mapShared()
	if err != nil {
		return wire.WorkerReport{}, err
	}
	defer unix.Munmap(s.mem)
	me, other := uint32(member), uint32(1-member)
	p := newProgress(start)
	for !stopped.Load() {
		blocked := false
		for atomic.LoadUint32(s.word) != me && !stopped.Load() {
			blocked = true
			s.wait(other)
		}
		if stopped.Load() {
			break
		}
		if blocked {
			p.woken(atomic.LoadInt64(s.ts))
		}
		p.spinSteps(prm.SpinIters)
		atomic.StoreInt64(s.ts, monoNs())
		atomic.StoreUint32(s.word, other)
		s.wake(1)
		p.rep.Iterations++
	}
	return p.finish(), nil
}

// futexFanOut: the messenger (member 0) spins, then bumps the
// generation and wakes the receivers; a receiver spins, then waits for
// the next generation.
func futexFanOut(stopped *atomic.Bool, start time.Time, prm Params, member int) (wire.WorkerReport, error) {
	s, err := mapShared()
	if err != nil {
		return wire.WorkerReport{}, err
	}
	defer unix.Munmap(s.mem)
	p := newProgress(start)
	for !stopped.Load() {
		p.spinSteps(prm.SpinIters)
		if member == 0 {
			atomic.StoreInt64(s.ts, monoNs())
			atomic.AddUint32(s.word, 1)
			s.wake(prm.FanOut)
			p.spinSteps(256)
		} else {
			gen := atomic.LoadUint32(s.word)
			for atomic.LoadUint32(s.word) == gen && !stopped.Load() {
				s.wait(gen)
			}
			if stopped.Load() {
				break
			}
			p.woken(atomic.LoadInt64(s.ts))
		}
		p.rep.Iterations++
	}
	return p.finish(), nil
}

// sequence runs the phases in order, over and over.
func sequence(stopped *atomic.Bool, start time.Time, prm Params) (wire.WorkerReport, error) {
	var f *ioFile
	for _, ph := range prm.Phases {
		if ph.Kind == PhaseIo && f == nil {
			var err error
			if f, err = openIOFile("seq"); err != nil {
				return wire.WorkerReport{}, err
			}
			defer f.close()
		}
	}
	p := newProgress(start)
	for !stopped.Load() {
		for _, ph := range prm.Phases {
			d := time.Duration(ph.Ms) * time.Millisecond
			end := time.Now().Add(d)
			switch ph.Kind {
			case PhaseSleep:
				p.sleepFor(d)
			case PhaseSpin:
				for !stopped.Load() && time.Now().Before(end) {
					p.unit()
				}
			case PhaseYield:
				for !stopped.Load() && time.Now().Before(end) {
					p.unit()
					p.yield(true)
				}
			case PhaseIo:
				for !stopped.Load() && time.Now().Before(end) {
					f.iteration(p)
				}
			}
			if stopped.Load() {
				break
			}
		}
		p.rep.Iterations++
	}
	return p.finish(), nil
}
