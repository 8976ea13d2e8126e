package stats

import (
	"math"
	"testing"
)

func TestMeanCV(t *testing.T) {
	for _, tt := range []struct {
		xs       []float64
		mean, cv float64
	}{
		{nil, 0, 0},
		{[]float64{0, 0}, 0, 0},
		{[]float64{5}, 5, 0},
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, 2.0 / 5},
	} {
		mean, cv := MeanCV(tt.xs)
		if math.Abs(mean-tt.mean) > 1e-12 || math.Abs(cv-tt.cv) > 1e-12 {
			t.Errorf("MeanCV(%v) = %v, %v; want %v, %v", tt.xs, mean, cv, tt.mean, tt.cv)
		}
	}
}
