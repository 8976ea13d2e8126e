package ksyms

import (
	"strings"
	"testing"
)

const sample = `ffffffff81000000 T _text
ffffffff82a00000 D linux_banner
0000000000032100 D runqueues
ffffffff83000000 b scx_root
ffffffffc0000000 t helper	[some_module]
ffffffff82a00000 D linux_banner
`

func TestParseKeepsWantedNames(t *testing.T) {
	tab, err := Parse(strings.NewReader(sample), []string{"runqueues", "scx_root", "helper", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if tab["runqueues"] != 0x32100 || tab["scx_root"] != 0xffffffff83000000 {
		t.Errorf("table %v", tab)
	}
	if _, ok := tab["helper"]; ok {
		t.Errorf("a module symbol was kept")
	}
	if m := tab.Missing([]string{"runqueues", "absent"}); len(m) != 1 || m[0] != "absent" {
		t.Errorf("Missing = %v", m)
	}
}

func TestParseRejectsGarbageAddresses(t *testing.T) {
	if _, err := Parse(strings.NewReader("zz T x\n"), nil); err == nil {
		t.Fatal("want an error")
	}
}

func TestHidden(t *testing.T) {
	tab, _ := Parse(strings.NewReader("0000000000000000 T a\n0000000000000000 D b\n"), nil)
	if !tab.Hidden() {
		t.Error("all-zero addresses are hidden ones")
	}
}
