#pragma once
// Fixture for layers.catches_upward_include: a driver including net/.
#include "actio/drivers/errc.hpp"
#include "actio/net/connection.hpp"
