package contract

import (
	"fmt"
	"strconv"
	"time"
)

// Window is a GDELT 2.0 window: the number of 15-minute windows from
// 1970-01-01 00:00 UTC to its start.
type Window int64

// Duration is the length of a window; Seconds the same in seconds.
const (
	Duration = 15 * time.Minute
	Seconds  = 15 * 60
)

// IDLayout is the time layout of a window id.
const IDLayout = "20060102150405"

// FromTime is the window that holds t.
func FromTime(t time.Time) Window {
	s := t.Unix()
	if s < 0 {
		return Window((s - Seconds + 1) / Seconds)
	}
	return Window(s / Seconds)
}

// FromID reads a window id given as a number (20230702153000). An id that is
// not on a 15-minute boundary maps to the window that holds it. ok is false
// for anything that is not a real UTC time from 1970 on.
//
// It does the calendar arithmetic itself (it runs once per row in the join
// and the outputs): no time.Time, no allocation.
func FromID(id int64) (w Window, ok bool) {
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
	return Window(s / Seconds), true
}

// ParseID reads a window id written as text (14 digits, a real UTC time; not
// necessarily on a 15-minute boundary: see Valid).
func ParseID(id string) (Window, error) {
	if !isDigits14(id) {
		return 0, fmt.Errorf("window %.40q is not 14 digits YYYYMMDDHHMMSS", id)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	w, ok := FromID(n)
	if !ok {
		return 0, fmt.Errorf("window %s is not a real time (YYYYMMDDHHMMSS, UTC)", id)
	}
	return w, nil
}

// Valid accepts a window id that is a real UTC time on a 15-minute boundary
// (YYYYMMDDHH{00,15,30,45}00): the only times GDELT 2.0 publishes.
func Valid(id string) error {
	w, err := ParseID(id)
	if err != nil {
		return err
	}
	if w.String() != id {
		return fmt.Errorf("window %s is not on a 15-minute boundary", id)
	}
	return nil
}

// ID is the window's id as a number, YYYYMMDDHHMMSS.
func (w Window) ID() int64 {
	t := w.Time()
	return int64(t.Year())*10000000000 + int64(t.Month())*100000000 + int64(t.Day())*1000000 +
		int64(t.Hour())*10000 + int64(t.Minute())*100 + int64(t.Second())
}

// String is the window's id as text, YYYYMMDDHHMMSS.
func (w Window) String() string { return w.Time().Format(IDLayout) }

// Time is the window's start, UTC.
func (w Window) Time() time.Time { return time.Unix(int64(w)*Seconds, 0).UTC() }

// Unix is the window's start in unix seconds.
func (w Window) Unix() int64 { return int64(w) * Seconds }

// Date is the window's day, 2006-01-02 (the tables' window_date partition).
func (w Window) Date() string { return w.Time().Format("2006-01-02") }

// Add is the window n windows on (back, if n < 0).
func (w Window) Add(n int64) Window { return w + Window(n) }

// Show writes the window the way a person reads it: 2023-07-02 15:45.
func (w Window) Show() string { return w.Time().Format("2006-01-02 15:04") }

func isDigits14(s string) bool {
	if len(s) != 14 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
