#!/usr/bin/env bats
# scripts/check-layers (make layers, run by make check) on a copy of
# common/: the tree as it is passes; a lower folder that includes a higher
# one, an unknown folder and an include circle each fail, naming the file.

load helpers

setup() {
	ms_setup
	TREE=$T/tree
	mkdir -p "$TREE/scripts"
	cp -R "$(ms_top)/common" "$TREE/common"
	cp "$(ms_top)/scripts/check-layers" "$TREE/scripts/check-layers"
}

layers() {
	run sh "$TREE/scripts/check-layers"
}

@test "check-layers: the tree passes" {
	layers
	expect_status 0
	[ -z "$output" ] || fail_with "it printed something"
}

@test "check-layers: a base header that includes a store header fails" {
	printf '#include "store.h"\n' >>"$TREE/common/base/err.h"
	layers
	expect_status 1
	[[ $output == *"common/base/err.h: includes store.h (store is not below base)"* ]] ||
	    fail_with "the violation is not named"
}

@test "check-layers: peers may not include each other" {
	printf '#include "pdf.h"\n' >>"$TREE/common/dlp/dlp.c"
	layers
	expect_status 1
	[[ $output == *"common/dlp/dlp.c: includes pdf.h (pdf is not below dlp)"* ]] ||
	    fail_with "the violation is not named"
}

@test "check-layers: a folder without a rank and an unknown header fail" {
	mkdir "$TREE/common/extra"
	printf '#include "nowhere.h"\n' >"$TREE/common/extra/x.c"
	layers
	expect_status 1
	[[ $output == *"common/extra/x.c: folder extra has no rank"* ]] ||
	    fail_with "the folder is not named"
}

@test "check-layers: an include circle inside a folder fails" {
	printf '#include "dlp-text.h"\n' >>"$TREE/common/dlp/dlp-extract.c"
	printf '#include "dlp-extract.h"\n' >>"$TREE/common/dlp/dlp-text.c"
	layers
	expect_status 1
	[[ $output == *"include circle:"*"dlp-extract"* ]] ||
	    fail_with "the circle is not named"
}
