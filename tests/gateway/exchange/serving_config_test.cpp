#include "gateway/exchange/serving_config.hpp"

#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

namespace gw {
namespace {

// current() once returned a reference to a thread-local cache that the next reload overwrites:
// a request holding it across co_await could find its config swapped (or freed) under it.
TEST(ConfigStore, CurrentReturnsItsOwnReference) {
  using Current = decltype(std::declval<const ConfigStore&>().current());
  static_assert(std::is_same_v<Current, ServingSnapshot>,
                "ConfigStore::current() must return the snapshot by value");
  ConfigStore store(nullptr);
  ServingSnapshot held = store.current();
  store.replace(nullptr);
  EXPECT_EQ(held, nullptr);
}

}  // namespace
}  // namespace gw
