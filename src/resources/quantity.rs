//! Fixed-point scalar quantities, rounded to three decimals as Mesos does.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// Thousandths per unit: Mesos keeps scalar resources to three decimal places.
const SCALE: i64 = 1000;

/// Largest accepted quantity, in whole units (keeps every sum far from `i64` overflow).
const MAX_UNITS: f64 = 1.0e12;

/// A non-negative scalar amount (cpus, MiB of memory, ...) in fixed point with three decimals.
///
/// Arithmetic is exact, so `0.1 + 0.2` fits in `0.3`:
///
/// ```
/// use offerpack::Quantity;
/// let sum = Quantity::new(0.1).unwrap() + Quantity::new(0.2).unwrap();
/// assert_eq!(sum, Quantity::new(0.3).unwrap());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

/// Why a number cannot be a [`Quantity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuantityError {
    /// The value was NaN.
    NotANumber,
    /// The value was infinite or beyond the supported range.
    OutOfRange,
    /// The value was below zero.
    Negative,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotANumber => "quantity is NaN",
            Self::OutOfRange => "quantity is infinite or too large",
            Self::Negative => "quantity is negative",
        })
    }
}

impl std::error::Error for QuantityError {}

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity(0);

    /// Converts a decimal amount, rounding to three decimals; rejects NaN, infinite and negative.
    pub fn new(value: f64) -> Result<Quantity, QuantityError> {
        if value.is_nan() {
            return Err(QuantityError::NotANumber);
        }
        if !value.is_finite() || value > MAX_UNITS {
            return Err(QuantityError::OutOfRange);
        }
        let milli = (value * SCALE as f64).round() as i64;
        if milli < 0 {
            return Err(QuantityError::Negative);
        }
        Ok(Quantity(milli))
    }

    /// A whole number of units.
    pub const fn from_units(units: u32) -> Quantity {
        Quantity(units as i64 * SCALE)
    }

    /// Builds a quantity from thousandths of a unit.
    pub const fn from_milli(milli: u64) -> Quantity {
        // Callers give counts far below i64::MAX; saturate rather than wrap if they do not.
        if milli > i64::MAX as u64 {
            Quantity(i64::MAX)
        } else {
            Quantity(milli as i64)
        }
    }

    /// The amount in thousandths of a unit.
    pub const fn milli(self) -> i64 {
        self.0
    }

    /// The amount as a float (for scores and output).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Quantity) -> Quantity {
        Quantity((self.0 - other.0).max(0))
    }
}

impl Add for Quantity {
    type Output = Quantity;
    fn add(self, rhs: Quantity) -> Quantity {
        Quantity(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Quantity {
    fn add_assign(&mut self, rhs: Quantity) {
        *self = *self + rhs;
    }
}

impl Sub for Quantity {
    type Output = Quantity;
    /// Saturates at zero: a quantity is never negative.
    fn sub(self, rhs: Quantity) -> Quantity {
        self.saturating_sub(rhs)
    }
}

impl SubAssign for Quantity {
    fn sub_assign(&mut self, rhs: Quantity) {
        *self = *self - rhs;
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / SCALE;
        let frac = self.0 % SCALE;
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let text = format!("{whole}.{frac:03}");
            f.write_str(text.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_sums_decimals_exactly() {
        let a = Quantity::new(0.1).unwrap() + Quantity::new(0.2).unwrap();
        assert_eq!(a, Quantity::new(0.3).unwrap());
        assert!(a <= Quantity::new(0.3).unwrap());
    }

    #[test]
    fn quantity_rejects_bad_numbers() {
        assert_eq!(Quantity::new(f64::NAN), Err(QuantityError::NotANumber));
        assert_eq!(Quantity::new(f64::INFINITY), Err(QuantityError::OutOfRange));
        assert_eq!(Quantity::new(-1.0), Err(QuantityError::Negative));
        assert_eq!(Quantity::new(1e13), Err(QuantityError::OutOfRange));
    }

    #[test]
    fn quantity_rounds_to_three_decimals() {
        assert_eq!(Quantity::new(0.0004).unwrap(), Quantity::ZERO);
        assert_eq!(Quantity::new(1.2345).unwrap().milli(), 1235);
        assert_eq!(Quantity::new(-0.0001).unwrap(), Quantity::ZERO);
    }

    #[test]
    fn quantity_displays_without_trailing_zeros() {
        assert_eq!(Quantity::new(2.5).unwrap().to_string(), "2.5");
        assert_eq!(Quantity::from_units(3).to_string(), "3");
        assert_eq!(Quantity::new(0.125).unwrap().to_string(), "0.125");
    }

    #[test]
    fn quantity_subtraction_saturates() {
        assert_eq!(Quantity::from_units(1) - Quantity::from_units(2), Quantity::ZERO);
    }
}
