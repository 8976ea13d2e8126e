package results

import "time"

var testTime = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
