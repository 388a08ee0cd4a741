#pragma once
// Fixture for layers.catches_detail_in_public_header: an installed header
// including an internal one.
#include "actio/io/detail/internal.hpp"
