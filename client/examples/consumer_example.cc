// Reads a topic partition from the beginning and prints each record.
//   consumer_example [--bootstrap HOST:PORT] [TOPIC] [PARTITION] [MAX_RECORDS]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <kappa/consumer.h>

int main(int argc, char** argv) {
  kappa::consumer_config config;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--bootstrap") == 0 && i + 1 < argc) {
      config.client.bootstrap = argv[++i];
    } else {
      args.emplace_back(argv[i]);
    }
  }
  const std::string topic = args.size() > 0 ? args[0] : "example";
  const int partition = args.size() > 1 ? std::atoi(args[1].c_str()) : 0;
  const long max_records = args.size() > 2 ? std::atol(args[2].c_str()) : 10;

  auto created = kappa::consumer::create(config);
  if (!created.ok()) {
    std::fprintf(stderr, "consumer_example: %s\n", created.status().message().c_str());
    return 1;
  }
  auto& consumer = *created.value();
  const kappa::topic_partition tp{topic, partition};
  if (auto st = consumer.assign({tp}); !st.ok()) return std::fprintf(stderr, "%s\n", st.message().c_str()), 1;
  if (auto st = consumer.seek_to_beginning({tp}); !st.ok()) {
    std::fprintf(stderr, "consumer_example: %s\n", st.message().c_str());
    return 1;
  }
  long seen = 0;
  // Bounded: stop after max_records or 10 empty polls in a row.
  for (int idle = 0; seen < max_records && idle < 10;) {
    auto polled = consumer.poll(500);
    if (!polled.ok()) {
      std::fprintf(stderr, "consumer_example: %s\n", polled.status().message().c_str());
      return 1;
    }
    idle = polled->empty() ? idle + 1 : 0;
    for (const auto& r : *polled) {
      std::printf("%s-%d@%lld key=%s value=%s\n", r.topic.c_str(), r.partition, static_cast<long long>(r.offset),
                  r.key ? r.key->c_str() : "(null)", r.value ? r.value->c_str() : "(null)");
      if (++seen >= max_records) break;
    }
  }
  consumer.close();
  return 0;
}
