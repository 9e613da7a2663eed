package ftrack

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkBatchOver100kJobs is the load: one request of 20 paged
// queries over 100,000 jobs (each ordered by created_at, 500 rows).
func BenchmarkBatchOver100kJobs(b *testing.B) {
	be := bigBackend(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		tx := &txn{limits: DefaultLimits}
		for i := range 20 {
			expr := fmt.Sprintf("select id, status, data, created_at from Job where status is running order by created_at descending offset %d limit 500", i*500)
			be.mu.RLock()
			_, aerr := be.query(context.Background(), tx, expr)
			be.mu.RUnlock()
			if aerr != nil {
				b.Fatal(aerr)
			}
		}
	}
}

// BenchmarkInList10k is one query with a 10,000-value in list over
// 100,000 jobs.
func BenchmarkInList10k(b *testing.B) {
	be := bigBackend(b, 100_000)
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf(`"job-%06d"`, i*10)
	}
	expr := "select id from Job where id in (" + strings.Join(ids, ",") + ")"
	b.ReportAllocs()
	for b.Loop() {
		be.mu.RLock()
		_, aerr := be.query(context.Background(), &txn{limits: DefaultLimits}, expr)
		be.mu.RUnlock()
		if aerr != nil {
			b.Fatal(aerr)
		}
	}
}
