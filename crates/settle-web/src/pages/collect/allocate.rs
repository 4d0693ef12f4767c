//! How a Collect and Apply save splits the amounts the clerk wrote per document over the
//! credits that pay them: pure arithmetic, so the page and its tests agree on it.

/// `minor` units from pool `pool` to wanted row `row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Draw {
    pub(crate) pool: usize,
    pub(crate) row: usize,
    pub(crate) minor: i64,
}

/// Draws each wanted amount, in row order, from the pools in pool order that lean its way
/// (positive credits pay positive balances, a negative payment clears negative ones). What the
/// pools cannot cover is drawn from the first pool of that sign anyway (an existing credit
/// before the new payment), so the engine refuses it
/// in its own words (`insufficient_unapplied`) beside that row; `Err(row)` when no pool leans
/// that row's way at all.
pub(crate) fn allocate(pools: &[i64], wanted: &[i64]) -> Result<Vec<Draw>, usize> {
    let mut left = pools.to_vec();
    let mut draws: Vec<Draw> = Vec::new();
    for (row, &want) in wanted.iter().enumerate() {
        let sign = want.signum();
        if sign == 0 {
            continue;
        }
        let same: Vec<usize> = (0..pools.len()).filter(|&p| pools[p].signum() == sign).collect();
        let Some(&first) = same.first() else { return Err(row) };
        let mut remaining = want;
        for &pool in &same {
            let take = if sign > 0 { remaining.min(left[pool]) } else { remaining.max(left[pool]) };
            if take.signum() != sign {
                continue;
            }
            left[pool] -= take;
            remaining -= take;
            draws.push(Draw { pool, row, minor: take });
            if remaining == 0 {
                break;
            }
        }
        if remaining != 0 {
            match draws.iter_mut().find(|d| d.pool == first && d.row == row) {
                Some(draw) => draw.minor = draw.minor.saturating_add(remaining),
                None => draws.push(Draw { pool: first, row, minor: remaining }),
            }
        }
    }
    Ok(draws)
}

#[cfg(test)]
mod tests {
    use super::{Draw, allocate};

    fn d(pool: usize, row: usize, minor: i64) -> Draw {
        Draw { pool, row, minor }
    }

    #[test]
    fn rows_are_paid_from_the_pools_in_order() {
        assert_eq!(
            allocate(&[8000, 6000], &[10000, 3000]),
            Ok(vec![d(0, 0, 8000), d(1, 0, 2000), d(1, 1, 3000)])
        );
    }

    #[test]
    fn a_negative_payment_clears_only_negative_rows() {
        assert_eq!(
            allocate(&[5000, -2500], &[-2500, 5000]),
            Ok(vec![d(1, 0, -2500), d(0, 1, 5000)])
        );
    }

    #[test]
    fn what_no_pool_covers_goes_to_the_first_pool_of_its_sign_for_the_engine_to_refuse() {
        assert_eq!(allocate(&[1000, 500], &[1600]), Ok(vec![d(0, 0, 1100), d(1, 0, 500)]));
        assert_eq!(allocate(&[1000, 0], &[500, 600]), Ok(vec![d(0, 0, 500), d(0, 1, 600)]));
    }

    #[test]
    fn a_row_no_pool_leans_toward_is_named() {
        assert_eq!(allocate(&[1000, 0], &[500, -100]), Err(1));
        assert_eq!(allocate(&[], &[100]), Err(0));
    }
}
