//! PostgreSQL setting values in one canonical form, so that a baseline may write
//! a setting the way `postgresql.conf` does (`128MB`, `5min`, `true`) and still
//! match what `pg_settings` reports (`16384` in units of `8kB`, `300` `s`, `on`).
//!
//! Memory becomes a number of bytes, time a number of milliseconds, booleans
//! `on`/`off`; everything else stays as written.

use serde_json::{json, Value};

/// Multiplier of a unit to the canonical base (bytes or milliseconds).
fn unit_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "B" => 1.0,
        "kB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    })
}

/// The factor of a `pg_settings.unit` such as `8kB`, `16MB`, `ms` or `min`.
fn pg_unit_factor(unit: &str) -> Option<f64> {
    let digits = unit.bytes().take_while(u8::is_ascii_digit).count();
    let scale = if digits == 0 {
        1.0
    } else {
        unit[..digits].parse::<f64>().ok()?
    };
    Some(scale * unit_factor(&unit[digits..])?)
}

fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// `on`/`off` for the spellings PostgreSQL accepts for booleans, else `None`.
fn boolean(text: &str) -> Option<&'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some("on"),
        "off" | "false" | "no" => Some("off"),
        _ => None,
    }
}

/// The canonical value of a live `pg_settings` row.
pub fn live_value(setting: &str, unit: Option<&str>, vartype: &str) -> Value {
    match vartype {
        "bool" => json!(boolean(setting).unwrap_or(setting)),
        "integer" | "real" => {
            let Ok(parsed) = setting.trim().parse::<f64>() else {
                return json!(setting);
            };
            match unit.and_then(pg_unit_factor) {
                // -1 (and 0 for some) mean "disabled"/"default", not a quantity.
                Some(_) if parsed < 0.0 => number(parsed),
                Some(factor) => number(parsed * factor),
                None => number(parsed),
            }
        }
        _ => json!(setting),
    }
}

/// What a baseline value declares: a canonical `value` to compare with the live
/// one, or, for a bare number, the raw `setting` in the parameter's own base
/// unit (which only the server knows, as in `postgresql.conf`).
pub enum DeclaredSetting {
    Value(Value),
    Setting(String),
}

/// Why a declared setting value is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingError {
    Null,
    WrongType,
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SettingError::Null => "a setting needs a value (null given)",
            SettingError::WrongType => "a setting value must be a string, number or boolean",
        })
    }
}

pub fn declared_value(value: &Value) -> Result<DeclaredSetting, SettingError> {
    match value {
        Value::Bool(b) => Ok(DeclaredSetting::Value(json!(if *b { "on" } else { "off" }))),
        Value::Number(n) => Ok(DeclaredSetting::Setting(n.to_string())),
        Value::String(text) => {
            if let Some(b) = boolean(text) {
                return Ok(DeclaredSetting::Value(json!(b)));
            }
            let trimmed = text.trim();
            if trimmed.parse::<f64>().is_ok() {
                return Ok(DeclaredSetting::Setting(trimmed.to_string()));
            }
            match with_unit(trimmed) {
                Some(canonical) => Ok(DeclaredSetting::Value(canonical)),
                None => Ok(DeclaredSetting::Value(json!(text))),
            }
        }
        Value::Null => Err(SettingError::Null),
        _ => Err(SettingError::WrongType),
    }
}

/// `128MB` → bytes, `5min` → milliseconds; `None` when the text is not a
/// number followed by a PostgreSQL unit.
fn with_unit(text: &str) -> Option<Value> {
    let split = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '-'))
        .map(|(i, _)| i)?;
    let (digits, unit) = text.split_at(split);
    let amount: f64 = digits.parse().ok()?;
    let factor = unit_factor(unit.trim())?;
    Some(number(amount * factor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(value: Value) -> Value {
        match declared_value(&value).unwrap() {
            DeclaredSetting::Value(v) => v,
            DeclaredSetting::Setting(s) => json!({ "setting": s }),
        }
    }

    #[test]
    fn memory_in_pages_equals_megabytes() {
        assert_eq!(
            live_value("16384", Some("8kB"), "integer"),
            declared(json!("128MB"))
        );
        assert_eq!(
            live_value("4096", Some("kB"), "integer"),
            declared(json!("4MB"))
        );
        assert_eq!(
            live_value("1024", Some("MB"), "integer"),
            declared(json!("1GB"))
        );
    }

    #[test]
    fn time_units_compare_in_milliseconds() {
        assert_eq!(
            live_value("300", Some("s"), "integer"),
            declared(json!("5min"))
        );
        assert_eq!(
            live_value("60", Some("min"), "integer"),
            declared(json!("1h"))
        );
        assert_eq!(live_value("-1", Some("ms"), "integer"), json!(-1));
    }

    #[test]
    fn booleans_and_bare_numbers() {
        assert_eq!(live_value("on", None, "bool"), declared(json!(true)));
        assert_eq!(declared(json!("off")), json!("off"));
        assert_eq!(declared(json!(50)), json!({"setting": "50"}));
        assert_eq!(declared(json!("scram-sha-256")), json!("scram-sha-256"));
        assert_eq!(declared_value(&Value::Null).err(), Some(SettingError::Null));
    }
}
