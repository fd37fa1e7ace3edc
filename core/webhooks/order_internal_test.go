package webhooks

import "testing"

func TestLanesKnock(t *testing.T) {
	l := newLanes()
	if !l.acquire("a") {
		t.Fatal("a free lane: got refused, want taken")
	}
	if !l.acquire("b") {
		t.Error("another endpoint's lane: got refused, want taken")
	}
	if l.acquire("a") {
		t.Fatal("a held lane: got taken twice")
	}
	if l.release("a") {
		t.Error("release after a knock: got released, want kept for another look")
	}
	if l.acquire("a") {
		t.Error("still held after the refused release: got taken twice")
	}
	if l.release("a") {
		t.Error("a second knock: got released, want kept")
	}
	if !l.release("a") {
		t.Error("release with no knock since the last look: got kept, want released")
	}
	if !l.acquire("a") {
		t.Error("after the release: got refused, want taken")
	}
	l.acquire("a") // a knock
	l.drop("a")
	if !l.acquire("a") {
		t.Error("after a drop: got refused, want taken")
	}
}
