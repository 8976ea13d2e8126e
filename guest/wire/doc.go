// Package wire is the format of everything that crosses the VM boundary:
// the [Request] the host puts into the initramfs, and the [Message]s the
// guest sends back over the dedicated result channel (a virtio-serial port
// named [PortName], never the console).
//
// Messages are JSON objects, one per line. The host treats the channel as
// the only source of truth about the guest: a run without a [KindDone]
// message has failed, whatever the console says.
//
// [WorkerReport] is the measurement record of one worker, written by the
// guest and judged on the host by package verify, which this package
// does not import.
package wire
