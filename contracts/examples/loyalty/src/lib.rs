//! loyalty — a merchant's loyalty-points program (wallet system 3): points are earned on settled payments as
//! lots that expire, redeemed oldest-first (FIFO, partly too), with per-category earn multipliers and events
//! wallets can subscribe to.

use purse_contract_sdk::storage::{Item, Map};
use purse_contract_sdk::{block_time, caller, emit, ensure, entry, impl_codec, Address, Error};

/// Program configuration, set at `init`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The merchant: the only account that may award points or change multipliers.
    pub merchant: Address,
    /// Program name.
    pub name: String,
    /// Points per 10 000 units spent (basis points).
    pub earn_rate_bps: u32,
    /// How long a lot lives, milliseconds.
    pub lot_ttl_ms: u64,
}
impl_codec!(Config { merchant, name, earn_rate_bps, lot_ttl_ms });

/// One earned batch of points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    /// Points left in the lot.
    pub points: u128,
    /// Expiry, block time in milliseconds.
    pub expires_ms: u64,
}
impl_codec!(Lot { points, expires_ms });

/// `init` arguments.
pub struct InitArgs {
    /// Program name.
    pub name: String,
    /// Points per 10 000 units spent.
    pub earn_rate_bps: u32,
    /// Lot lifetime, milliseconds.
    pub lot_ttl_ms: u64,
}
impl_codec!(InitArgs { name, earn_rate_bps, lot_ttl_ms });

/// `earn` arguments.
pub struct EarnArgs {
    /// Who earns.
    pub wallet: Address,
    /// Amount of the settled payment.
    pub spent: u128,
    /// Merchant category of the payment.
    pub category: String,
}
impl_codec!(EarnArgs { wallet, spent, category });

static CONFIG: Item<Config> = Item::new(b"config");
/// Multiplier per category, basis points (10 000 = 1x).
static MULTIPLIERS: Map<String, u32> = Map::new(b"mult/");
/// Lots by (wallet, sequence number): sequence order is earn order, so iteration is FIFO.
static LOTS: Map<(Address, u64), Lot> = Map::new(b"lot/");
/// Next lot sequence number per wallet.
static NEXT_SEQ: Map<Address, u64> = Map::new(b"seq/");

fn config() -> Result<Config, Error> {
    CONFIG.get().ok_or_else(|| Error::new("not initialised"))
}

/// Starts the program; the caller becomes the merchant.
pub fn init(args: InitArgs) -> Result<(), Error> {
    ensure(args.earn_rate_bps <= 100_000, "earn rate above 10x")?;
    ensure(args.lot_ttl_ms > 0, "lot lifetime must be positive")?;
    CONFIG.set(&Config { merchant: caller(), name: args.name, earn_rate_bps: args.earn_rate_bps, lot_ttl_ms: args.lot_ttl_ms });
    Ok(())
}

/// Sets a category multiplier (merchant only).
pub fn set_multiplier(args: (String, u32)) -> Result<(), Error> {
    let cfg = config()?;
    ensure(caller() == cfg.merchant, "only the merchant may set multipliers")?;
    ensure(args.1 <= 100_000, "multiplier above 10x")?;
    MULTIPLIERS.set(&args.0, &args.1);
    Ok(())
}

/// Awards points for a settled payment (merchant only); returns the points of the new lot.
pub fn earn(args: EarnArgs) -> Result<u128, Error> {
    let cfg = config()?;
    ensure(caller() == cfg.merchant, "only the merchant may award points")?;
    let mult = u128::from(MULTIPLIERS.get(&args.category).unwrap_or(10_000));
    let points = args
        .spent
        .checked_mul(u128::from(cfg.earn_rate_bps))
        .and_then(|v| v.checked_mul(mult))
        .ok_or_else(|| Error::new("points overflow"))?
        / 100_000_000;
    ensure(points > 0, "payment too small to earn points")?;
    let seq = NEXT_SEQ.get(&args.wallet).unwrap_or(0);
    NEXT_SEQ.set(&args.wallet, &(seq + 1));
    let lot = Lot { points, expires_ms: block_time().saturating_add(cfg.lot_ttl_ms) };
    LOTS.set(&(args.wallet, seq), &lot);
    emit("points.earned", &(args.wallet, points, lot.expires_ms));
    Ok(points)
}

/// Unexpired lots of `wallet`, oldest first.
fn live_lots(wallet: &Address) -> Vec<((Address, u64), Lot)> {
    let now = block_time();
    let mut out = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let (page, next) = match &cursor {
            None => {
                let mut start = b"lot/".to_vec();
                start.extend_from_slice(&wallet.0);
                LOTS.page_raw(&start, 50)
            }
            Some(c) => LOTS.page_raw(c, 50),
        };
        let mut done = next.is_none();
        for (k, lot) in page {
            if k.0 != *wallet {
                done = true;
                break;
            }
            if lot.expires_ms > now && lot.points > 0 {
                out.push((k, lot));
            }
        }
        if done {
            return out;
        }
        cursor = next;
    }
}

/// Unexpired points of `wallet`.
pub fn balance(wallet: Address) -> Result<u128, Error> {
    Ok(live_lots(&wallet).iter().map(|(_, l)| l.points).sum())
}

/// Redeems `points` of the caller's points, oldest lots first; returns the points left.
pub fn redeem(points: u128) -> Result<u128, Error> {
    let wallet = caller();
    let lots = live_lots(&wallet);
    let total: u128 = lots.iter().map(|(_, l)| l.points).sum();
    ensure(points > 0, "nothing to redeem")?;
    ensure(total >= points, "insufficient points")?;
    let mut left = points;
    for (key, mut lot) in lots {
        if left == 0 {
            break;
        }
        let take = left.min(lot.points);
        lot.points -= take;
        left -= take;
        if lot.points == 0 {
            LOTS.remove(&key);
        } else {
            LOTS.set(&key, &lot);
        }
    }
    emit("points.redeemed", &(wallet, points));
    Ok(total - points)
}

/// The program configuration.
pub fn config_of(_: ()) -> Result<Config, Error> {
    config()
}

entry!(init, set_multiplier, earn, balance, redeem, config_of);
