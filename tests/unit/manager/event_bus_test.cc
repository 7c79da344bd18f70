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

}  // namespace
}  // namespace berth::manager
