package correlate

import "github.com/calipath/calipath/decode"

// pointIndex maps each capture point's ID to its index in points: how the findings' places (an
// Anomaly's Where names points by ID) are taken back to the points, and through world.pointNode to
// their nodes.
func pointIndex(points []decode.Point) map[string]int {
	m := make(map[string]int, len(points))
	for i := range points {
		m[points[i].ID] = i
	}
	return m
}
