package correlate

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// CorrelateContext stops once its context has ended and says why; otherwise it is Correlate.
func TestCorrelateContextStops(t *testing.T) {
	pcaps, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/node-[ab]-[ct]*.pcap")
	if len(pcaps) < 4 {
		t.Fatalf("lab captures: %v", pcaps)
	}
	why := errors.New("stopped by a test")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	res, err := CorrelateContext(ctx, decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{})
	if res != nil || !errors.Is(err, why) {
		t.Errorf("ended context: result %v, error %v", res != nil, err)
	}
	res, err = CorrelateContext(context.Background(), decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{})
	if err != nil || res == nil || res.Summary.Journeys == 0 {
		t.Errorf("undisturbed: %v, %v", res, err)
	}
}
