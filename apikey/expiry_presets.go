package apikey

import "time"

// The expiry presets as durations, to use inline where a lifetime is asked
// for (orgauthz.NewKey{ExpiresIn: apikey.Expiry30d}); each is what
// ExpiryPreset returns for its name (Expiry6mo for "6mo", and so on).
const (
	Expiry1h  = time.Hour
	Expiry1d  = 24 * time.Hour
	Expiry7d  = 7 * Expiry1d
	Expiry30d = 30 * Expiry1d
	Expiry6mo = 183 * Expiry1d
	Expiry1y  = 365 * Expiry1d
	Expiry2y  = 730 * Expiry1d
	Expiry4y  = 1460 * Expiry1d
)
