package runstate

import (
	"errors"
	"testing"
	"time"
)

func TestFailStopsOnceAndKeepsTheFirst(t *testing.T) {
	Reset()
	defer Reset()
	stops := 0
	SetShutdown(func() { stops++ })
	Fail("gdelt_feed", errors.New("reading ./mirror/masterfilelist.txt: not found\nmore"), "check GDELT_BASE_URL")
	Fail("delta_lake", errors.New("later"), "")
	f := Failed()
	if f == nil || f.Component != "gdelt_feed" || stops != 1 {
		t.Fatalf("failure %+v, %d stops", f, stops)
	}
	want := "gdelt_feed: reading ./mirror/masterfilelist.txt: not found more; check GDELT_BASE_URL"
	if f.Error() != want {
		t.Fatalf("got %q, want %q", f.Error(), want)
	}
}

func TestClockGivesUpOnlyInAJob(t *testing.T) {
	Reset()
	defer Reset()
	now := time.Unix(0, 0)
	c := NewClock("delta_lake out/bronze/events")
	c.now = func() time.Time { return now }
	boom := errors.New("permission denied")
	if c.Failing(boom, "fix it") {
		t.Fatal("a service gave up")
	}
	now = now.Add(time.Hour)
	if c.Failing(boom, "fix it") || Failed() != nil {
		t.Fatal("a service gave up after an hour")
	}

	StartJob(time.Minute)
	c.OK()
	if c.Failing(boom, "fix it") {
		t.Fatal("gave up at the first failure")
	}
	now = now.Add(59 * time.Second)
	if c.Failing(boom, "fix it") {
		t.Fatal("gave up before the give-up time")
	}
	now = now.Add(time.Second)
	if !c.Failing(boom, "fix it") {
		t.Fatal("did not give up after the give-up time")
	}
	if f := Failed(); f == nil || f.Cause != "failing for 1m0s: permission denied" {
		t.Fatalf("failure %+v", f)
	}
}

func TestClockOKRestartsTheFailure(t *testing.T) {
	Reset()
	defer Reset()
	StartJob(time.Minute)
	now := time.Unix(0, 0)
	c := NewClock("x")
	c.now = func() time.Time { return now }
	c.Failing(errors.New("a"), "")
	now = now.Add(50 * time.Second)
	c.OK()
	if c.Since() != 0 {
		t.Fatal("OK did not end the failure")
	}
	c.Failing(errors.New("b"), "")
	now = now.Add(50 * time.Second)
	if c.Failing(errors.New("b"), "") {
		t.Fatal("gave up on two short failures")
	}
}
