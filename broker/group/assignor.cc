#include "broker/group/assignor.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "proto/format/assert.h"

namespace kappa::broker::group {
namespace {

// Members sorted by id, first occurrence of a duplicated id kept: the
// contract's "member-id order" and a stable identity for the index-based
// bookkeeping below.
std::vector<const assignor_member*> sorted_members(const std::vector<assignor_member>& members) {
  std::vector<const assignor_member*> out;
  out.reserve(members.size());
  for (const auto& m : members) out.push_back(&m);
  std::stable_sort(out.begin(), out.end(),
                   [](const assignor_member* a, const assignor_member* b) { return a->member_id < b->member_id; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const assignor_member* a, const assignor_member* b) { return a->member_id == b->member_id; }),
            out.end());
  return out;
}

std::map<std::string, partition_set> empty_result(const std::vector<const assignor_member*>& members) {
  std::map<std::string, partition_set> out;
  for (const auto* m : members) out[m->member_id];
  return out;
}

// The uniform assignor works on dense indexes: members 0..M-1 in id order,
// subscribed topics 0..T-1 in name order, partitions 0..P-1 in (topic,
// partition) order.
class uniform_state {
 public:
  uniform_state(std::vector<const assignor_member*> members, const std::map<std::string, int32_t>& partition_counts)
      : members_(std::move(members)) {
    std::set<std::string> subscribed;
    for (const auto* m : members_)
      for (const auto& t : m->topics) {
        auto it = partition_counts.find(t);
        if (it != partition_counts.end() && it->second > 0) subscribed.insert(t);
      }
    for (const auto& t : subscribed) {
      topic_index_[t] = topics_.size();
      topics_.push_back(t);
      topic_first_.push_back(partition_topic_.size());
      for (int32_t p = 0; p < partition_counts.at(t); ++p) {
        partition_topic_.push_back(topics_.size() - 1);
        partition_number_.push_back(p);
      }
    }
    const std::size_t m_count = members_.size();
    eligible_.assign(m_count, std::vector<bool>(topics_.size(), false));
    subscribers_.assign(topics_.size(), 0);
    topic_members_.assign(topics_.size(), {});
    for (std::size_t m = 0; m < m_count; ++m)
      for (const auto& t : members_[m]->topics) {
        auto it = topic_index_.find(t);
        if (it == topic_index_.end()) continue;
        eligible_[m][it->second] = true;
        ++subscribers_[it->second];
        topic_members_[it->second].push_back(m);
      }
    owner_.assign(partition_topic_.size(), kNone);
    owned_.assign(m_count, {});
  }

  std::map<std::string, partition_set> run() {
    keep_current();
    for (std::size_t m = 0; m < members_.size(); ++m) load_.insert({owned_[m].size(), m});
    assign_unowned();
    balance();
    balance_chains();
    auto out = empty_result(members_);
    for (std::size_t p = 0; p < owner_.size(); ++p) {
      out[members_[owner_[p]]->member_id][topics_[partition_topic_[p]]].insert(partition_number_[p]);
    }
    return out;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // Stickiness: every still-valid current ownership is kept for now; when two
  // members claim one partition (a rebalance in flight), the first in id
  // order keeps it. balance() gives up only what balance requires.
  void keep_current() {
    for (std::size_t m = 0; m < members_.size(); ++m) {
      for (const auto& [topic, partitions] : members_[m]->current) {
        auto it = topic_index_.find(topic);
        if (it == topic_index_.end() || !eligible_[m][it->second]) continue;
        const std::size_t t = it->second;
        const std::size_t count = partition_end(t) - topic_first_[t];
        for (int32_t p : partitions) {
          if (p < 0 || static_cast<std::size_t>(p) >= count) continue;
          const std::size_t index = topic_first_[t] + static_cast<std::size_t>(p);
          if (owner_[index] != kNone) continue;
          owner_[index] = m;
          owned_[m].insert(index);
        }
      }
    }
  }

  // Unowned partitions go, one at a time, to the least-loaded eligible member;
  // partitions of topics with fewer subscribers first, because they have
  // fewer places to go.
  void assign_unowned() {
    std::vector<std::size_t> order;
    for (std::size_t p = 0; p < owner_.size(); ++p)
      if (owner_[p] == kNone) order.push_back(p);
    std::stable_sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
      return subscribers_[partition_topic_[a]] < subscribers_[partition_topic_[b]];
    });
    for (std::size_t p : order) {
      const std::size_t m = least_loaded_eligible(partition_topic_[p], kNone);
      KAPPA_ASSERT(m != kNone);  // the topic is subscribed, so someone is eligible
      move(p, kNone, m);
    }
  }

  // Moves partitions from the most loaded members to eligible members with
  // at least two fewer, until no such move exists. Each move lowers the sum
  // of squared loads, so this ends; with identical subscriptions it ends with
  // loads differing by at most one after the fewest moves (only surplus
  // partitions of over-full members move).
  void balance() {
    bool moved = true;
    while (moved) {
      moved = false;
      // Most loaded first; a member that cannot give anything is skipped
      // until some other move changes the picture.
      for (auto it = load_.rbegin(); it != load_.rend(); ++it) {
        const auto [load, m] = *it;
        if (load <= lowest_load() + 1) break;
        if (give_one(m)) {
          moved = true;
          break;
        }
      }
    }
  }

  // With heterogeneous subscriptions a single move may not help where a
  // chain does: a (only t) 3, b (t and u) 2, c (only u) 1 becomes 2, 2, 2 by
  // moving a t-partition a -> b and a u-partition b -> c. Such a chain from a
  // member with load L to one with load <= L - 2 lowers the sum of squared
  // loads, so repeating it ends; chains move more partitions than single
  // moves, so they come only after balance() has found none.
  void balance_chains() {
    for (;;) {
      std::vector<bool> stuck(members_.size(), false);
      bool moved = false;
      std::vector<std::pair<std::size_t, std::size_t>> by_load(load_.rbegin(), load_.rend());
      for (const auto& [load, m] : by_load) {
        if (load <= lowest_load() + 1) break;
        if (stuck[m]) continue;
        if (apply_chain_from(m, stuck)) {
          moved = true;
          break;
        }
      }
      if (!moved) return;
    }
  }

  // Breadth-first over "owns a partition the next one could take", from
  // `from`, in member and partition order. On failure, every member reached
  // with a load <= from's is marked stuck: its own search could only reach
  // members reached here, none of them light enough.
  bool apply_chain_from(std::size_t from, std::vector<bool>& stuck) {
    const std::size_t from_load = owned_[from].size();
    std::vector<std::size_t> parent(members_.size(), kNone);
    std::vector<std::size_t> via(members_.size(), kNone);  // partition moved into the member
    std::vector<std::size_t> queue{from};
    parent[from] = from;
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const std::size_t u = queue[head];
      std::size_t last_topic = kNone;
      for (auto it = owned_[u].rbegin(); it != owned_[u].rend(); ++it) {
        const std::size_t t = partition_topic_[*it];
        if (t == last_topic) continue;  // one partition per topic is enough to move
        last_topic = t;
        for (std::size_t v : topic_members_[t]) {
          if (parent[v] != kNone) continue;
          parent[v] = u;
          via[v] = *it;
          if (owned_[v].size() + 2 <= from_load) {
            // Walk back: each member on the way gives one and takes one.
            for (std::size_t w = v; w != from; w = parent[w]) move(via[w], parent[w], w);
            return true;
          }
          queue.push_back(v);
        }
      }
    }
    for (std::size_t v : queue)
      if (owned_[v].size() <= from_load) stuck[v] = true;
    return false;
  }

  bool give_one(std::size_t from) {
    const std::size_t from_load = owned_[from].size();
    // Highest partition first: a fixed, deterministic choice. The receiver
    // depends only on the topic, so each topic is looked at once.
    std::size_t tried_topic = kNone;
    for (auto it = owned_[from].rbegin(); it != owned_[from].rend(); ++it) {
      const std::size_t p = *it;
      if (partition_topic_[p] == tried_topic) continue;
      tried_topic = partition_topic_[p];
      const std::size_t to = least_loaded_eligible(partition_topic_[p], from);
      if (to == kNone || owned_[to].size() + 1 >= from_load) continue;
      move(p, from, to);
      return true;
    }
    return false;
  }

  std::size_t lowest_load() const { return load_.empty() ? 0 : load_.begin()->first; }

  // The least-loaded member subscribed to topic t (ties: lowest id), other
  // than `except`; kNone when there is none.
  std::size_t least_loaded_eligible(std::size_t t, std::size_t except) const {
    for (const auto& [load, m] : load_) {
      if (m != except && eligible_[m][t]) return m;
    }
    return kNone;
  }

  void move(std::size_t p, std::size_t from, std::size_t to) {
    if (from != kNone) {
      load_.erase({owned_[from].size(), from});
      owned_[from].erase(p);
      load_.insert({owned_[from].size(), from});
    }
    load_.erase({owned_[to].size(), to});
    owned_[to].insert(p);
    load_.insert({owned_[to].size(), to});
    owner_[p] = to;
  }

  std::size_t partition_end(std::size_t t) const {
    return t + 1 < topic_first_.size() ? topic_first_[t + 1] : partition_topic_.size();
  }

  std::vector<const assignor_member*> members_;
  std::vector<std::string> topics_;
  std::map<std::string, std::size_t> topic_index_;
  std::vector<std::size_t> topic_first_;       // topic -> first partition index
  std::vector<std::size_t> partition_topic_;   // partition index -> topic
  std::vector<int32_t> partition_number_;      // partition index -> partition within its topic
  std::vector<std::vector<bool>> eligible_;    // member -> topic -> subscribed
  std::vector<std::size_t> subscribers_;       // topic -> subscriber count
  std::vector<std::vector<std::size_t>> topic_members_;  // topic -> subscribers, in id order
  std::vector<std::size_t> owner_;             // partition index -> member or kNone
  std::vector<std::set<std::size_t>> owned_;   // member -> partition indexes
  std::set<std::pair<std::size_t, std::size_t>> load_;  // (owned count, member)
};

}  // namespace

std::map<std::string, partition_set> assign_range(const std::vector<assignor_member>& members,
                                                  const std::map<std::string, int32_t>& partition_counts) {
  const auto sorted = sorted_members(members);
  auto out = empty_result(sorted);
  for (const auto& [topic, count] : partition_counts) {
    if (count <= 0) continue;
    std::vector<const assignor_member*> subscribers;
    for (const auto* m : sorted)
      if (m->topics.count(topic) != 0) subscribers.push_back(m);
    if (subscribers.empty()) continue;
    const auto n = static_cast<int32_t>(subscribers.size());
    const int32_t base = count / n;
    const int32_t extra = count % n;
    int32_t next = 0;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t take = base + (i < extra ? 1 : 0);
      if (take == 0) continue;
      auto& partitions = out[subscribers[static_cast<std::size_t>(i)]->member_id][topic];
      for (int32_t p = next; p < next + take; ++p) partitions.insert(p);
      next += take;
    }
  }
  return out;
}

std::map<std::string, partition_set> assign_uniform(const std::vector<assignor_member>& members,
                                                    const std::map<std::string, int32_t>& partition_counts) {
  return uniform_state(sorted_members(members), partition_counts).run();
}

bool known_assignor(const std::string& name) { return name == "range" || name == "uniform"; }

std::map<std::string, partition_set> assign(const std::string& assignor, const std::vector<assignor_member>& members,
                                            const std::map<std::string, int32_t>& partition_counts) {
  if (assignor == "range") return assign_range(members, partition_counts);
  // Callers check known_assignor() first; an unknown name still gets a valid
  // assignment rather than none.
  return assign_uniform(members, partition_counts);
}

}  // namespace kappa::broker::group
