package join

import "time"

// Windows are handled as indexes: the number of 15-minute windows since the
// Unix epoch. Window ids (YYYYMMDDHHMMSS) are not contiguous integers, and
// the retention and the GKG slack count windows, so every comparison is done
// on indexes.

const windowSeconds = 15 * 60

// windowIndex turns a window id (YYYYMMDDHHMMSS, UTC) into its index. An id
// that is not on a 15-minute boundary maps to the window that contains it.
// ok is false for anything that is not a valid timestamp from 1970 on.
func windowIndex(id int64) (idx int64, ok bool) {
	if id < 19700101000000 || id > 99991231235959 {
		return 0, false
	}
	sec := id % 100
	id /= 100
	minute := id % 100
	id /= 100
	hour := id % 100
	id /= 100
	day := id % 100
	id /= 100
	month := id % 100
	year := id / 100
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	s := daysFromCivil(year, month, day)*86400 + hour*3600 + minute*60 + sec
	return s / windowSeconds, true
}

// windowID is the id (YYYYMMDDHHMMSS) of window index idx.
func windowID(idx int64) int64 {
	t := time.Unix(idx*windowSeconds, 0).UTC()
	return int64(t.Year())*10000000000 + int64(t.Month())*100000000 + int64(t.Day())*1000000 +
		int64(t.Hour())*10000 + int64(t.Minute())*100 + int64(t.Second())
}

func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic
// Gregorian), after Howard Hinnant's days_from_civil.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 1969 here: no negative years
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// windowCache remembers the last id converted for one table: a table's rows
// come window by window, so nearly every lookup hits.
type windowCache struct {
	id, idx int64
}

func (c *windowCache) index(id int64) (int64, bool) {
	if id == c.id && id != 0 {
		return c.idx, true
	}
	idx, ok := windowIndex(id)
	if ok {
		c.id, c.idx = id, idx
	}
	return idx, ok
}
