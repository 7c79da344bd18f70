#include "events/event_bus.h"

#include <gtest/gtest.h>

#include <thread>

namespace berth::manager {
namespace {

TEST(EventBusTest, FiltersByPrefixAndDelivers) {
  EventBus bus;
  auto images = bus.subscribe({"/images/"});
  auto all = bus.subscribe({});
  bus.publish("/images/create", "default", "a");
  bus.publish("/snapshots/commit", "", "sha256:x");
  auto e = images->next(std::chrono::seconds(1));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->topic, "/images/create");
  EXPECT_EQ(e->subject, "a");
  EXPECT_FALSE(images->next(std::chrono::milliseconds(10)).has_value());
  EXPECT_EQ(all->next(std::chrono::seconds(1))->topic, "/images/create");
  EXPECT_EQ(all->next(std::chrono::seconds(1))->topic, "/snapshots/commit");
}

TEST(EventBusTest, CloseWakesWaiters) {
  EventBus bus;
  auto sub = bus.subscribe({});
  std::thread closer([&] { bus.close(); });
  EXPECT_FALSE(sub->next(std::chrono::seconds(30)).has_value());
  EXPECT_TRUE(sub->closed());
  closer.join();
}

TEST(EventBusTest, StalledSubscriberLosesOldestAndCountsThem) {
  EventBus bus;
  auto slow = bus.subscribe({}, 3);
  auto fast = bus.subscribe({});
  for (int i = 0; i < 5; ++i) bus.publish("/tasks/start", "k8s.io", std::to_string(i));
  EXPECT_EQ(slow->dropped(), 2u);
  EXPECT_EQ(fast->dropped(), 0u);
  EXPECT_EQ(slow->next(std::chrono::seconds(1))->subject, "2");  // 0 and 1 were dropped
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fast->next(std::chrono::seconds(1))->subject, std::to_string(i));
}

}  // namespace
}  // namespace berth::manager
