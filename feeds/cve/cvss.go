package cve

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kubedrift/kubedrift/tracker"
)

// ErrBadVector reports a CVSS vector that cannot be scored.
var ErrBadVector = errors.New("invalid CVSS v3 vector")

// Base metric weights from the CVSS v3.1 specification, section 7.4. Version
// 3.0 uses the same weights; only the rounding function was made exact in 3.1,
// and the 3.1 one is used for both because it gives 3.0's intended results
// without floating-point artefacts.
var cvss3Base = map[string]map[string]float64{
	"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
	"AC": {"L": 0.77, "H": 0.44},
	"PR": {"N": 0.85, "L": 0.62, "H": 0.27},
	"UI": {"N": 0.85, "R": 0.62},
	"S":  {"U": 0, "C": 0},
	"C":  {"H": 0.56, "L": 0.22, "N": 0},
	"I":  {"H": 0.56, "L": 0.22, "N": 0},
	"A":  {"H": 0.56, "L": 0.22, "N": 0},
}

// Temporal and environmental metrics are valid in a vector but do not change
// the base score, which is all upstream publishes.
var cvss3Other = map[string]string{
	"E": "XUPFH", "RL": "XOTWU", "RC": "XURC",
	"CR": "XLMH", "IR": "XLMH", "AR": "XLMH",
	"MAV": "XNALP", "MAC": "XLH", "MPR": "XNLH", "MUI": "XNR", "MS": "XUC",
	"MC": "XNLH", "MI": "XNLH", "MA": "XNLH",
}

// ScoreCVSS3 computes the base score and qualitative rating (None, Low,
// Medium, High, Critical) of a CVSS v3.0 or v3.1 vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H". On error the result still
// carries the vector, so that callers can keep what upstream stated.
func ScoreCVSS3(vector string) (tracker.CVSS, error) {
	out := tracker.CVSS{Vector: vector}
	rest, ok := strings.CutPrefix(vector, "CVSS:3.1/")
	if !ok {
		rest, ok = strings.CutPrefix(vector, "CVSS:3.0/")
	}
	if !ok {
		return out, fmt.Errorf("%w %q: want prefix CVSS:3.0/ or CVSS:3.1/", ErrBadVector, vector)
	}
	vals := make(map[string]string, 8)
	for _, part := range strings.Split(rest, "/") {
		k, v, ok := strings.Cut(part, ":")
		if !ok || k == "" || v == "" {
			return out, fmt.Errorf("%w %q: malformed metric %q", ErrBadVector, vector, part)
		}
		if _, dup := vals[k]; dup {
			return out, fmt.Errorf("%w %q: metric %s given twice", ErrBadVector, vector, k)
		}
		if w, base := cvss3Base[k]; base {
			if _, ok := w[v]; !ok {
				return out, fmt.Errorf("%w %q: unknown value %s:%s", ErrBadVector, vector, k, v)
			}
		} else if allowed, other := cvss3Other[k]; other {
			if len(v) != 1 || !strings.Contains(allowed, v) {
				return out, fmt.Errorf("%w %q: unknown value %s:%s", ErrBadVector, vector, k, v)
			}
		} else {
			return out, fmt.Errorf("%w %q: unknown metric %s", ErrBadVector, vector, k)
		}
		vals[k] = v
	}
	for _, k := range []string{"AV", "AC", "PR", "UI", "S", "C", "I", "A"} {
		if _, ok := vals[k]; !ok {
			return out, fmt.Errorf("%w %q: missing base metric %s", ErrBadVector, vector, k)
		}
	}
	changed := vals["S"] == "C"
	pr := cvss3Base["PR"][vals["PR"]]
	if changed {
		// A changed scope makes required privileges weigh less (spec 7.4).
		switch vals["PR"] {
		case "L":
			pr = 0.68
		case "H":
			pr = 0.5
		}
	}
	w := func(k string) float64 { return cvss3Base[k][vals[k]] }
	iss := 1 - (1-w("C"))*(1-w("I"))*(1-w("A"))
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	exploitability := 8.22 * w("AV") * w("AC") * pr * w("UI")
	var score float64
	switch {
	case impact <= 0:
		score = 0
	case changed:
		score = roundUp(math.Min(1.08*(impact+exploitability), 10))
	default:
		score = roundUp(math.Min(impact+exploitability, 10))
	}
	out.Score = score
	out.Rating = Rating(score)
	return out, nil
}

// roundUp is the CVSS v3.1 Roundup (Appendix A): the smallest number with one
// decimal that is equal to or higher than x, computed on integers so that
// 4.000000001 does not become 4.1.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return (math.Floor(float64(i)/10000) + 1) / 10
}

// Rating is the CVSS v3 qualitative severity of a base score.
func Rating(score float64) string {
	switch {
	case score <= 0:
		return "None"
	case score < 4:
		return "Low"
	case score < 7:
		return "Medium"
	case score < 9:
		return "High"
	default:
		return "Critical"
	}
}
