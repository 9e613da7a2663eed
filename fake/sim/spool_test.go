package sim_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake/sim"
)

func TestSpoolStaysInMemoryThenSpillsAndCloseRemovesTheFile(t *testing.T) {
	dir := t.TempDir()
	s := sim.NewSpool(8, dir)
	_, err := s.Write([]byte("hello"))
	require.NoError(t, err)
	assert.False(t, s.Spilled())
	early, err := s.Open()
	require.NoError(t, err)

	n, err := s.ReadFrom(strings.NewReader(", world of spools"))
	require.NoError(t, err)
	assert.EqualValues(t, 17, n)
	assert.True(t, s.Spilled())
	assert.EqualValues(t, 22, s.Size())
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	require.Len(t, files, 1)

	got, err := s.Bytes()
	require.NoError(t, err)
	assert.Equal(t, "hello, world of spools", string(got))
	e, _ := io.ReadAll(early)
	assert.Equal(t, "hello", string(e), "a reader sees what was written when it was opened")

	r, err := s.Open()
	require.NoError(t, err)
	_, err = r.Seek(7, io.SeekStart)
	require.NoError(t, err)
	rest, _ := io.ReadAll(r)
	assert.Equal(t, "world of spools", string(rest))

	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err = os.Stat(files[0])
	assert.True(t, os.IsNotExist(err), "the temporary file is gone")
	_, err = s.Write([]byte("x"))
	assert.ErrorIs(t, err, sim.ErrSpoolClosed)
	_, err = s.Open()
	assert.ErrorIs(t, err, sim.ErrSpoolClosed)
}

func TestSpoolKeepsLargeContentOffTheHeap(t *testing.T) {
	s := sim.NewSpool(0, t.TempDir())
	defer s.Close()
	chunk := bytes.Repeat([]byte{7}, 1<<16)
	for range 64 { // 4 MiB
		_, err := s.Write(chunk)
		require.NoError(t, err)
	}
	assert.True(t, s.Spilled())
	assert.EqualValues(t, 4<<20, s.Size())
	r, err := s.Open()
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, r)
	require.NoError(t, err)
	assert.EqualValues(t, 4<<20, n)
}
