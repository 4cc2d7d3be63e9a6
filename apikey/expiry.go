package apikey

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidExpiry: the name is not one of the expiry presets (see
// ExpiryPreset). The error lists the valid names.
var ErrInvalidExpiry = errors.New("invalid API key expiry")

// DefaultExpiry is how long a key lives when its maker does not choose:
// 365 days, the "1y" preset.
const DefaultExpiry = 365 * 24 * time.Hour

const day = 24 * time.Hour

// ExpiryPreset returns the lifetime that a preset name stands for, to add
// to the creation time for a Key's ExpiresAt:
//
//	"1h"   1 hour
//	"1d"   1 day (24 hours)
//	"7d"   7 days
//	"30d"  30 days
//	"6mo"  183 days (half a year of 365 days, rounded up)
//	"1y"   365 days (DefaultExpiry)
//	"2y"   730 days
//	"4y"   1460 days
//
// A day is 24 hours: the presets are fixed durations, not calendar
// arithmetic, so "6mo" is not six calendar months (those are 181 to 184
// days) and "1y" from a date before a 29 February ends a day early. The names are matched exactly (lower case, no spaces). An
// unknown name gives an error matching ErrInvalidExpiry that lists the
// valid ones, in ExpiryPresetNames' order, without repeating the name.
func ExpiryPreset(name string) (time.Duration, error) {
	switch name {
	case "1h":
		return time.Hour, nil
	case "1d":
		return day, nil
	case "7d":
		return 7 * day, nil
	case "30d":
		return 30 * day, nil
	case "6mo":
		return 183 * day, nil
	case "1y":
		return 365 * day, nil
	case "2y":
		return 730 * day, nil
	case "4y":
		return 1460 * day, nil
	}
	return 0, fmt.Errorf("%w: not a preset name (want one of %s)", ErrInvalidExpiry, strings.Join(ExpiryPresetNames(), ", "))
}

// ExpiryPresetNames returns the names that ExpiryPreset accepts, shortest
// lifetime first, for a host to offer as choices. The slice is new on
// each call; the caller may change it.
func ExpiryPresetNames() []string {
	return []string{"1h", "1d", "7d", "30d", "6mo", "1y", "2y", "4y"}
}
