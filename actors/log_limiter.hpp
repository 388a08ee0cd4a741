#pragma once

/// The rate limit for repeated warnings moved to the bottom layer, where the
/// log facade uses it: `actio/drivers/log_limiter.hpp`. This name stays for
/// code written against it.

#include "actio/drivers/log_limiter.hpp"
