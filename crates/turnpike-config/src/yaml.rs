//! YAML documents as JSON values (YAML 1.2 core schema, through yaml-rust2).

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Parses the first document of `text`. Errors carry a message and a byte offset.
pub fn yaml_to_json(text: &str) -> Result<Value, (String, usize)> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        let marker = e.marker();
        let offset = crate::openapi::offset_of(text, marker.line(), marker.col() + 1);
        (e.info().to_string(), offset)
    })?;
    Ok(docs.first().map_or(Value::Null, convert))
}

fn convert(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(convert).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    _ => continue,
                };
                m.insert(key, convert(v));
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_scalars_and_collections() {
        let v = yaml_to_json("a: 1\nb: [x, 2.5, true]\n'200': {c: null}\n").expect("yaml");
        assert_eq!(v["a"], 1);
        assert_eq!(v["b"][1], 2.5);
        assert_eq!(v["b"][2], true);
        assert!(v["200"]["c"].is_null());
    }

    #[test]
    fn reports_positions() {
        let err = yaml_to_json("a: 1\nb: [1, 2\n").expect_err("bad");
        assert!(err.1 > 0, "{err:?}");
    }
}
