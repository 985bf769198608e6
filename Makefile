# Kappa: the two commands a newcomer runs are `make run` and `make test`.
# Every target installs the Debian packages it needs first (as root or via sudo).

SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages: compilers and build tools, the libraries Kappa links,
# and the tools its tests drive (python3-kafka makes interop fixtures,
# iproute2 makes network namespaces).
PACKAGES := build-essential cmake ninja-build ccache pkg-config \
  libboost-dev libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc \
  libabsl-dev libspdlog-dev libfmt-dev catch2 libcli11-dev \
  liblz4-dev libzstd-dev libsnappy-dev zlib1g-dev libisal-dev prometheus-cpp-dev \
  python3 python3-kafka iproute2 procps

.PHONY: all deps build test asan run clean format fixtures sim cluster chaos

all: build

deps:
	@missing=$$(dpkg-query -W -f='$${Package} $${Status}\n' $(PACKAGES) 2>/dev/null \
	    | awk '$$NF == "installed" {print $$1}' | sort > /tmp/kappa-installed.$$$$; \
	  for p in $(PACKAGES); do grep -qx "$$p" /tmp/kappa-installed.$$$$ || echo $$p; done; \
	  rm -f /tmp/kappa-installed.$$$$); \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing packages:" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The seeded Raft simulation over many more seeds than `make test` runs
# (about 6 ms a seed in Release). A failure prints its seed and how to
# replay it. SIM_START and SIM_SEEDS pick the range.
SIM_START ?= 1000000
SIM_SEEDS ?= 50000
sim: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target kappa-sim
	$(BUILD_DIR)/tests/sim/kappa-sim --start $(SIM_START) --seeds $(SIM_SEEDS)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Starts a three-broker cluster on loopback in the background (data, logs and
# pid files in ./cluster-data/<id>/); deploy/README.md "Run a cluster" says
# more. `deploy/local-cluster.sh status|restart ID|stop` manage it.
cluster: build
	KAPPAD=$(BUILD_DIR)/broker/kappad deploy/local-cluster.sh start 3

# The cluster fault suite (tests/cluster: real kappad processes, SIGKILL,
# SIGSTOP, link cuts, bit flips, power loss) over many rounds; `make test`
# runs one round of each. KAPPA_CHAOS_ROUNDS sets the rounds, KAPPA_CHAOS_SEED
# the first seed (a failure prints the seed that replays it).
KAPPA_CHAOS_ROUNDS ?= 20
chaos: build
	KAPPA_CHAOS_ROUNDS=$(KAPPA_CHAOS_ROUNDS) $(BUILD_DIR)/tests/cluster/cluster_tests "[cluster]"

# Starts a one-node broker in the foreground with its data in ./data.
# Ctrl-C (SIGINT) shuts it down cleanly.
KAPPA_LISTEN ?= 127.0.0.1:9092
KAPPA_METRICS ?= 127.0.0.1:9644
run: build
	@echo ""
	@echo "Kappa: starting a one-node broker on $(KAPPA_LISTEN), data in ./data"
	@echo "  metrics:   curl -s http://$(KAPPA_METRICS)/metrics | grep kappa_"
	@echo "  in another terminal:"
	@echo "    $(BUILD_DIR)/tools/kappactl topic create demo --partitions 3"
	@echo "    printf 'k1:hello\\nk2:world\\n' | $(BUILD_DIR)/tools/kappactl produce demo --key-separator :"
	@echo "    $(BUILD_DIR)/tools/kappactl consume demo --from beginning --format '%k %v (partition %p, offset %o)\\n'"
	@echo "  the README's Tour has more. Ctrl-C stops the broker cleanly."
	@echo ""
	exec $(BUILD_DIR)/broker/kappad --data-dir ./data --listen $(KAPPA_LISTEN) --metrics-listen $(KAPPA_METRICS)

# Regenerates the Kafka interop fixtures with Debian's python3-kafka (an
# independent Kafka implementation). Tests read the committed fixtures, so
# only this target needs the Python codec modules.
fixtures: deps
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  python3-kafka python3-snappy python3-lz4 python3-zstandard
	cd tests/format/fixtures && /usr/bin/python3 make_fixtures.py

format:
	find broker client proto storage replication tools tests -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
