# clusterlive: thin targets; the work is in scripts/.
VARIANT ?= desktop
N ?= 3

.PHONY: all setup iso cluster cluster-down demo test test-unit test-system fault-trials desktop-test lint bench fuzz core clean

all: iso

setup:
	scripts/setup

## make iso [VARIANT=desktop|node|test|desktop-test] [MIRROR=uri]: build image/clusterlive-VARIANT-amd64.iso
iso: setup
	scripts/build-image $(VARIANT)

## make cluster [N=3]: boot N nodes of the test image (built if needed); make cluster-down
cluster: setup
	scripts/build-image --if-needed test
	scripts/vcluster up $(N)

cluster-down:
	scripts/vcluster down

## make demo: build the image if needed, boot 3 nodes, show them finding each other
demo:
	scripts/demo

## make test: lint, unit tests, test image, system tests on virtual clusters
test:
	scripts/test

test-unit:
	scripts/test lint unit cpp fuzz

test-system:
	scripts/test system

## make fault-trials: the migration fault tests (41-43) at the full 10 trials per fault point
## (make test leaves them out; tests/system/run 41 42 43 runs a few trials); under TCG about
## 1 h 45 min (41: 36 min, 42: 34 min, 43: 33 min)
fault-trials: setup
	TRIALS=10 WORKER_TRIALS=10 CUT_TRIALS=10 KILL_TRIALS=10 tests/system/run 41 42 43

## make desktop-test: the desktop image on three nodes, clusterview driven with a real mouse drag
## (tests/system/50-desktop.sh; make test leaves it out: it builds the desktop-test image)
desktop-test: setup
	tests/system/run 50

lint:
	scripts/lint

## make bench: build, boot, membership, migration and desktop figures, printed and written to
## image/bench.json
bench:
	scripts/bench

## make core: build clusterlived's core (autojoin/) on this machine
core: setup
	scripts/build-core

## make fuzz [FUZZ_SECONDS=60]: run every libFuzzer target of the peer-input parsers
fuzz:
	scripts/fuzz

clean:
	-scripts/vcluster down 2>/dev/null
	rm -rf image/work-* image/*.iso image/*.iso.* image/test-artifacts image/bench.json image/build.log
	rm -rf autojoin/build autojoin/build-fuzz
