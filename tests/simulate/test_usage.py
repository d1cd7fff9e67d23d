"""How many users an account puts on its seats: the named seats are filled, then a share of the
rest — above the seats for a team that outgrew them (issue 18: with every seat filled at the same
share, licence utilization reached 100 % for 1 renewed customer of 183 on the demo)."""

from __future__ import annotations

import numpy as np

from tenure.simulate.population import NAMED_SEATS, OVERDEPLOYED_MAX, target_users


def test_named_seats_are_filled_and_the_rest_at_the_share() -> None:
    seats = np.array([1, 3, 13, 20])
    share = np.array([0.4, 0.4, 0.5, 1.2])
    # 1 and 3 seats: all named; 13 seats: 3 + 10 × 0.5; 20 seats outgrown: 3 + 17 × 1.2.
    assert target_users(seats, share).tolist() == [1.0, 3.0, 8.0, 3 + 17 * 1.2]
    assert NAMED_SEATS == 3 and OVERDEPLOYED_MAX > 1
