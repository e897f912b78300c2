package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// These tests run kafka-dev as a process, the way scripts and fault tests
// use it: start, kill (SIGKILL or SIGTERM), restart on the same -data.

const specPath = "../../resources/topics.yaml"

// binary is the kafka-dev command built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kafka-dev-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "kafka-dev")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building kafka-dev: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a process's stderr for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devBroker is one running kafka-dev process.
type devBroker struct {
	t       *testing.T
	cmd     *exec.Cmd
	brokers []string
	stderr  *syncBuffer
	exited  chan struct{}
	waitErr error
}

// startDev runs kafka-dev with the given -data and -ports (plus extra flags)
// and waits for its brokers line. The process is killed when the test ends
// if the test has not stopped it.
func startDev(t *testing.T, data, ports string, extra ...string) *devBroker {
	t.Helper()
	d, err := tryStartDev(t, data, ports, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tryStartDev(t *testing.T, data, ports string, extra ...string) (*devBroker, error) {
	t.Helper()
	args := append([]string{"-data", data, "-ports", ports, "-spec", specPath}, extra...)
	d := &devBroker{t: t, cmd: exec.Command(binary, args...), stderr: &syncBuffer{}, exited: make(chan struct{})}
	d.cmd.Stderr = d.stderr
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
	})
	select {
	case line := <-lines:
		addrs, ok := strings.CutPrefix(line, "brokers=")
		if !ok {
			return nil, fmt.Errorf("first stdout line %q, want brokers=…\nstderr:\n%s", line, d.stderr)
		}
		d.brokers = strings.Split(addrs, ",")
		return d, nil
	case <-d.exited:
		return nil, fmt.Errorf("kafka-dev exited before announcing brokers: %v\nstderr:\n%s", d.waitErr, d.stderr)
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("kafka-dev did not announce brokers in 30s\nstderr:\n%s", d.stderr)
	}
}

// kill ends the process with SIGKILL: no chance to save anything.
func (d *devBroker) kill() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		d.t.Fatalf("SIGKILL: %v", err)
	}
	<-d.exited
	var ee *exec.ExitError
	if !errors.As(d.waitErr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		d.t.Fatalf("kafka-dev did not die of SIGKILL: %v", d.waitErr)
	}
}

// stop ends the process with SIGTERM and expects a clean exit.
func (d *devBroker) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.t.Fatalf("kafka-dev did not stop in 30s after SIGTERM\nstderr:\n%s", d.stderr)
	}
	if d.waitErr != nil {
		d.t.Fatalf("kafka-dev exited with %v after SIGTERM\nstderr:\n%s", d.waitErr, d.stderr)
	}
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("kill and restart test: skipped with -short")
	}
}

// freePorts returns n ports that were free a moment ago on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}

func newClient(t *testing.T, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

const topic = "gdelt.events"

func record(i int) *kgo.Record {
	return &kgo.Record{
		Topic: topic,
		Key:   []byte(strconv.Itoa(1_000_000 + i)), // a GLOBALEVENTID
		Value: []byte(fmt.Sprintf(`{"GLOBALEVENTID":%d,"n":%d}`, 1_000_000+i, i)),
	}
}

// readAll reads every record of topic from the log start to its current end
// with a fresh, group-less client.
func readAll(t *testing.T, ctx context.Context, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	adm := kadm.NewClient(newClient(t, brokers))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	cl := newClient(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var recs []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v; partitions not read to the end: %v", topic, ctx.Err(), want)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Logf("fetch partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			recs = append(recs, r)
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return recs
}

// leaders returns the leader of every partition of every topic, as a fresh
// client sees them.
func leaders(t *testing.T, ctx context.Context, brokers []string) map[string]int32 {
	t.Helper()
	details, err := kadm.NewClient(newClient(t, brokers)).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int32{}
	for name, d := range details {
		for _, p := range d.Partitions {
			out[fmt.Sprintf("%s/%d", name, p.Partition)] = p.Leader
		}
	}
	return out
}

// checkExactly fails unless recs hold records 0..n-1, each once.
func checkExactly(t *testing.T, recs []*kgo.Record, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Key)]++
	}
	var missing, dup []string
	for i := range n {
		k := string(record(i).Key)
		switch seen[k] {
		case 0:
			missing = append(missing, k)
		case 1:
		default:
			dup = append(dup, k)
		}
	}
	if len(recs) != n || len(missing) > 0 || len(dup) > 0 {
		t.Fatalf("read %d records, want %d: %d missing (%.5v), %d duplicated (%.5v)", len(recs), n, len(missing), missing, len(dup), dup)
	}
}

// TestKillRestartLosesNothingAcked is the "broker down" fault: kafka-dev is
// SIGKILLed while a producer and a consumer group are connected, stays down
// while the producer keeps producing, and comes back on the same -data and
// -ports. Both clients must carry on by themselves, every record acknowledged
// before the kill must still be there, and so must the group's committed
// offsets.
func TestKillRestartLosesNothingAcked(t *testing.T) {
	skipShort(t)
	const (
		n     = 2000
		group = "kafka-dev-test"
		down  = 2 * time.Second
	)
	ctx := testContext(t, 3*time.Minute)
	data := t.TempDir()
	ports := joinPorts(freePorts(t, 3))
	brokersFile := filepath.Join(t.TempDir(), "brokers")

	d := startDev(t, data, ports, "-brokers-file", brokersFile)
	if raw, err := os.ReadFile(brokersFile); err != nil || string(raw) != "brokers="+strings.Join(d.brokers, ",")+"\n" {
		t.Fatalf("brokers file %q (%v), want the brokers line", raw, err)
	}

	producer := newClient(t, d.brokers,
		kgo.RequiredAcks(kgo.AllISRAcks()), // acks=all, idempotent: kgo's default, said out loud
		kgo.ProducerBatchCompression(kgo.ZstdCompression()),
		kgo.ProducerLinger(5*time.Millisecond),
	)
	var first []*kgo.Record
	for i := range n / 2 {
		first = append(first, record(i))
	}
	if err := producer.ProduceSync(ctx, first...).FirstErr(); err != nil {
		t.Fatalf("producing the first half: %v", err)
	}

	consumer := newClient(t, d.brokers,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	consumed := map[string]int{}
	poll := func(until int) {
		t.Helper()
		for len(consumed) < until {
			fs := consumer.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("consumer group has %d distinct records, want %d: %v\nstderr:\n%s", len(consumed), until, ctx.Err(), d.stderr)
			}
			fs.EachRecord(func(r *kgo.Record) { consumed[string(r.Key)]++ })
		}
	}
	poll(n / 2)
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("committing: %v", err)
	}
	adm := kadm.NewClient(newClient(t, d.brokers))
	before, err := adm.FetchOffsets(ctx, group)
	if err != nil || before.Error() != nil {
		t.Fatalf("fetching committed offsets: %v %v", err, before.Error())
	}

	leadersBefore := leaders(t, ctx, d.brokers)
	d.kill()
	killedAt := time.Now()

	// Produce the second half while the broker is down: the records wait in
	// the client and must be written once the brokers are back.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		failed  []error
		acked   int
		ackedMu sync.Mutex
	)
	for i := n / 2; i < n; i++ {
		wg.Add(1)
		producer.Produce(ctx, record(i), func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
				return
			}
			ackedMu.Lock()
			acked++
			ackedMu.Unlock()
		})
	}
	time.Sleep(down)
	ackedMu.Lock()
	if acked > 0 {
		t.Fatalf("%d records acknowledged while the broker was down", acked)
	}
	ackedMu.Unlock()

	d2 := startDev(t, data, ports)
	restartedAt := time.Now()
	t.Logf("broker down for %v", restartedAt.Sub(killedAt).Round(time.Millisecond))
	if strings.Join(d2.brokers, ",") != strings.Join(d.brokers, ",") {
		t.Fatalf("restart announced %v, want %v", d2.brokers, d.brokers)
	}
	// Leaders are pinned (partition mod 3), so the clients find them where
	// they were.
	leadersAfter := leaders(t, ctx, d2.brokers)
	if len(leadersBefore) != 21 || !maps.Equal(leadersBefore, leadersAfter) {
		t.Errorf("partition leaders moved across the restart:\nbefore %v\nafter  %v", leadersBefore, leadersAfter)
	}

	flushed := make(chan struct{})
	go func() { wg.Wait(); close(flushed) }()
	select {
	case <-flushed:
	case <-ctx.Done():
		ackedMu.Lock()
		t.Fatalf("producer did not finish after the restart: %d of %d acknowledged", acked, n-n/2)
	}
	if len(failed) > 0 {
		t.Fatalf("%d records failed after the restart, first: %v", len(failed), failed[0])
	}
	t.Logf("producer: the %d records produced while down acknowledged %v after the restart", n-n/2, time.Since(restartedAt).Round(time.Millisecond))

	// Committed offsets survived the SIGKILL.
	adm2 := kadm.NewClient(newClient(t, d2.brokers))
	after, err := adm2.FetchOffsets(ctx, group)
	if err != nil || after.Error() != nil {
		t.Fatalf("fetching committed offsets after the restart: %v %v", err, after.Error())
	}
	before.Each(func(o kadm.OffsetResponse) {
		got, ok := after.Lookup(o.Topic, o.Partition)
		if !ok || got.At != o.At {
			t.Errorf("committed offset of %s/%d: %d before the kill, %+v after", o.Topic, o.Partition, o.At, got)
		}
	})

	// The group consumer reconnects and goes on with the second half.
	poll(n)
	dups := 0
	for _, c := range consumed {
		dups += c - 1
	}
	t.Logf("consumer group: read %d distinct records across the restart (%d redelivered), caught up %v after the restart",
		len(consumed), dups, time.Since(restartedAt).Round(time.Millisecond))

	// Every record acknowledged before or after the kill is in the log, once.
	checkExactly(t, readAll(t, ctx, d2.brokers, topic), n)
	d2.stop()
	// stderr is complete once the process has exited.
	if !strings.Contains(d2.stderr.String(), "gdelt.events: unchanged") {
		t.Errorf("the restart did not find the topics in place:\n%s", d2.stderr)
	}
}

// TestKillWhileProducing SIGKILLs kafka-dev while a producer has batches in
// flight. Every record acknowledged before the kill must survive; records in
// flight at the kill are retried after the restart and must be acknowledged
// then. kfake does not persist an idempotent producer's sequence numbers on
// SIGKILL (only on a clean stop), so a batch that was written but whose
// acknowledgement was lost can be written twice: we count such duplicates
// and report them rather than fail on them.
func TestKillWhileProducing(t *testing.T) {
	skipShort(t)
	const n = 3000
	ctx := testContext(t, 3*time.Minute)
	data := t.TempDir()
	ports := joinPorts(freePorts(t, 3))
	d := startDev(t, data, ports)

	producer := newClient(t, d.brokers,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()),
		kgo.ProducerLinger(time.Millisecond),
		kgo.MaxBufferedRecords(64), // keep batches small and many in flight
	)
	var (
		mu              sync.Mutex
		ackedBeforeKill = map[string]bool{}
		killed          bool
		failed          []error
		wg              sync.WaitGroup
		killNow         = make(chan struct{})
		enqueued        = make(chan struct{})
	)
	go func() {
		defer close(enqueued)
		for i := range n {
			wg.Add(1)
			producer.Produce(ctx, record(i), func(r *kgo.Record, err error) {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, err)
					return
				}
				if !killed {
					ackedBeforeKill[string(r.Key)] = true
					if len(ackedBeforeKill) == n/3 {
						close(killNow)
					}
				}
			})
		}
	}()
	select {
	case <-killNow:
	case <-ctx.Done():
		t.Fatalf("producer did not reach %d acknowledgements", n/3)
	}
	mu.Lock()
	d.kill() // under mu: no callback can count an ack after this point as before the kill
	killed = true
	acked := len(ackedBeforeKill)
	mu.Unlock()
	t.Logf("SIGKILL after %d acknowledged records", acked)

	time.Sleep(time.Second)
	d2 := startDev(t, data, ports)
	done := make(chan struct{})
	go func() { <-enqueued; wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("producer did not finish after the restart")
	}
	if len(failed) > 0 {
		t.Fatalf("%d records failed, first: %v", len(failed), failed[0])
	}

	recs := readAll(t, ctx, d2.brokers, topic)
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Key)]++
	}
	lost, missing, dups := 0, 0, 0
	for i := range n {
		k := string(record(i).Key)
		switch c := seen[k]; {
		case c == 0 && ackedBeforeKill[k]:
			lost++
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	t.Logf("after the restart: %d records in the log for %d produced; %d duplicates (in flight at the kill, written twice)", len(recs), n, dups)
	if lost > 0 || missing > 0 {
		t.Fatalf("%d records acknowledged before the kill are gone, %d acknowledged after it are missing", lost, missing)
	}
	d2.stop()
}

// lineLogger is a kgo.Logger that keeps the lines containing a substring.
type lineLogger struct {
	mu    sync.Mutex
	match string
	lines []string
}

func (l *lineLogger) Level() kgo.LogLevel { return kgo.LogLevelInfo }

func (l *lineLogger) Log(_ kgo.LogLevel, msg string, kv ...any) {
	line := fmt.Sprint(append([]any{msg}, kv...)...)
	if strings.Contains(line, l.match) {
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.mu.Unlock()
	}
}

func (l *lineLogger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// TestStopThenKillKeepsProducerInSequence restarts the same data cleanly,
// then after SIGKILL, twice, with one idempotent producer carrying on across
// all of it. kfake alone would reload the sequence windows of the clean stop
// after the first kill and answer OUT_OF_ORDER_SEQUENCE_NUMBER (the producer
// recovers by bumping its epoch, after a stall of about 10 s); kafka-dev
// drops those stale windows when it finds the last run was killed.
func TestStopThenKillKeepsProducerInSequence(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 2*time.Minute)
	data := t.TempDir()
	ports := joinPorts(freePorts(t, 3))
	outOfOrder := &lineLogger{match: "OUT_OF_ORDER_SEQUENCE_NUMBER"}

	d := startDev(t, data, ports)
	producer := newClient(t, d.brokers, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.WithLogger(outOfOrder))
	produce := func(from, to int) {
		t.Helper()
		start := time.Now()
		var recs []*kgo.Record
		for i := from; i < to; i++ {
			recs = append(recs, record(i))
		}
		if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("producing %d..%d: %v", from, to, err)
		}
		t.Logf("records %d..%d acknowledged in %v", from, to-1, time.Since(start).Round(time.Millisecond))
	}
	produce(0, 300)
	d.stop()
	d = startDev(t, data, ports)
	produce(300, 600)
	d.kill()
	d = startDev(t, data, ports)
	produce(600, 900)
	d.kill()
	d = startDev(t, data, ports)
	produce(900, 1200)
	checkExactly(t, readAll(t, ctx, d.brokers, topic), 1200)
	d.stop()
	if n := outOfOrder.count(); n > 0 {
		t.Errorf("the producer was answered OUT_OF_ORDER_SEQUENCE_NUMBER %d times, first: %s", n, outOfOrder.lines[0])
	}
}

// TestCleanRestartOnOtherPorts stops kafka-dev with SIGTERM and restarts it
// on other (free) ports: the data does not depend on the ports.
func TestCleanRestartOnOtherPorts(t *testing.T) {
	const (
		n     = 300
		group = "kafka-dev-ports"
	)
	ctx := testContext(t, 2*time.Minute)
	data := t.TempDir()

	d := startDev(t, data, "0")
	producer := newClient(t, d.brokers)
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, record(i))
	}
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(newClient(t, d.brokers))
	offsets := kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: topic, Partition: 0, At: 1})
	if resp, err := adm.CommitOffsets(ctx, group, offsets); err != nil || resp.Error() != nil {
		t.Fatalf("committing: %v %v", err, resp.Error())
	}
	producer.Close()
	d.stop()

	d2 := startDev(t, data, "0")
	if strings.Join(d2.brokers, ",") == strings.Join(d.brokers, ",") {
		t.Logf("free ports happened to repeat: %v", d2.brokers)
	}
	checkExactly(t, readAll(t, ctx, d2.brokers, topic), n)
	got, err := kadm.NewClient(newClient(t, d2.brokers)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := got.Lookup(topic, 0); !ok || o.At != 1 {
		t.Fatalf("committed offset after the restart: %+v, want 1", o)
	}
	d2.stop()
}

// TestDataFolderLocked: a second kafka-dev on the same -data refuses to start
// rather than write the same files.
func TestDataFolderLocked(t *testing.T) {
	data := t.TempDir()
	d := startDev(t, data, "0")
	_, err := tryStartDev(t, data, "0")
	if err == nil || !strings.Contains(err.Error(), "in use by another kafka-dev") {
		t.Fatalf("second kafka-dev on the same data: %v", err)
	}
	d.stop()
}

func TestParsePorts(t *testing.T) {
	for in, want := range map[string]string{
		"9092,9093,9094": "[9092 9093 9094]",
		"0":              "[0 0 0]",
		"0,0,0":          "[0 0 0]",
		" 1, 2 ,3":       "[1 2 3]",
		"9092":           "error",
		"1,2":            "error",
		"1,2,x":          "error",
		"1,2,70000":      "error",
		"1,2,1":          "error",
	} {
		got, err := parsePorts(in)
		if s := fmt.Sprint(got); (err != nil) != (want == "error") || (err == nil && s != want) {
			t.Errorf("parsePorts(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}
