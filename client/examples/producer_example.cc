// Produces N records to a topic and prints where each landed.
//   producer_example [--bootstrap HOST:PORT] [TOPIC] [COUNT]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <kappa/producer.h>

int main(int argc, char** argv) {
  kappa::producer_config config;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--bootstrap") == 0 && i + 1 < argc) {
      config.client.bootstrap = argv[++i];
    } else {
      args.emplace_back(argv[i]);
    }
  }
  const std::string topic = args.size() > 0 ? args[0] : "example";
  const int count = args.size() > 1 ? std::atoi(args[1].c_str()) : 10;
  config.max_block_ms = 10000;

  auto created = kappa::producer::create(config);
  if (!created.ok()) {
    std::fprintf(stderr, "producer_example: %s\n", created.status().message().c_str());
    return 1;
  }
  auto& producer = *created.value();
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    kappa::producer_record record;
    record.topic = topic;
    record.key = "key-" + std::to_string(i % 4);  // same key, same partition
    record.value = "hello " + std::to_string(i);
    // The callback runs on the producer's I/O thread: keep it short.
    producer.send(std::move(record), [&failed](const kappa::delivery_report& r) {
      if (r.ok()) {
        std::printf("%s-%d@%lld\n", r.topic.c_str(), r.partition, static_cast<long long>(r.offset));
      } else {
        std::fprintf(stderr, "delivery failed: %s\n", r.status.message().c_str());
        ++failed;
      }
    });
  }
  if (kappa::Status st = producer.flush(30000); !st.ok()) {
    std::fprintf(stderr, "producer_example: %s\n", st.message().c_str());
    return 1;
  }
  (void)producer.close();
  return failed == 0 ? 0 : 1;
}
