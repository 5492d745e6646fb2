package correlate

// ahead fills batches on a goroutine of its own while the calling goroutine takes them, in order:
// fill(b, from, to) puts items [from, to) of total into batch b, n at a time, and take(b) takes them
// (false: stop). The batches are in flight at once (one being filled, one ready, one being taken,
// for three), and a batch is filled again only once take is done with it. It returns once the
// filling goroutine has stopped; a panic while filling is raised again here.
func ahead[B any](batches []B, total, n int, fill func(b B, from, to int), take func(b B) bool) {
	free := make(chan B, len(batches))
	ready := make(chan B, len(batches))
	quit := make(chan struct{})
	failed := make(chan any, 1)
	for _, b := range batches {
		free <- b
	}
	go aheadFill(total, n, free, ready, quit, failed, fill)
	defer func() {
		close(quit)
		for range ready { // until the filler has stopped
		}
		select {
		case p := <-failed:
			panic(p)
		default:
		}
	}()
	for b := range ready {
		if !take(b) {
			return
		}
		free <- b
	}
}

// aheadFill is ahead's filling goroutine: it fills the free batches in order and hands each over on
// ready; it stops once quit is closed, and closes ready when it stops. A panic is sent on failed.
func aheadFill[B any](total, n int, free <-chan B, ready chan<- B, quit <-chan struct{}, failed chan<- any,
	fill func(b B, from, to int)) {
	defer close(ready)
	defer func() {
		if p := recover(); p != nil {
			failed <- p
		}
	}()
	for from := 0; from < total; from += n {
		var b B
		select {
		case b = <-free:
		case <-quit:
			return
		}
		fill(b, from, min(from+n, total))
		select {
		case ready <- b:
		case <-quit:
			return
		}
	}
}
