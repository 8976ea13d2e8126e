// Package verify turns what the guest measured into a verdict.
//
// It is plain data and pure functions, used on the host: the guest
// measures (each worker's wire.WorkerReport, from package guest/wire) and
// never imports this package. [Thresholds] holds the limits of every
// check, and [Evaluate] runs the enabled checks over a scenario's reports
// and returns one [CheckResult] per check.
//
// Thresholds merge in three layers, last set value wins: [Defaults], then
// the scheduler's overrides, then the test's (see [Merge]). Unset values
// are nil pointers, so "not set" and "set to zero" stay distinct. Under
// emulation (TCG) or on a debug kernel (lockdep, sanitizers: see [Env])
// the spread and gap limits are relaxed by [Env.Relaxed], and every check
// that used a relaxed limit says so in its message.
package verify
