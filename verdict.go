package ktstr

import (
	"fmt"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// Verdict is what a test body returns: pass, fail or skip, with details
// and figures. The host reports it as the check "body", beside the
// others.
type Verdict = wire.Verdict

// Pass is a passing verdict.
func Pass(details ...string) Verdict { return Verdict{Status: wire.VerdictPass, Details: details} }

// Fail is a failing verdict; the message says why.
func Fail(format string, a ...any) Verdict {
	return Verdict{Status: wire.VerdictFail, Details: []string{fmt.Sprintf(format, a...)}}
}

// Skip is a verdict that the test could not judge here, and why (a
// topology without what it needs, say).
func Skip(format string, a ...any) Verdict {
	return Verdict{Status: wire.VerdictSkip, Details: []string{fmt.Sprintf(format, a...)}}
}

// CheckBody is the check that carries a test body's verdict.
const CheckBody = "body"
