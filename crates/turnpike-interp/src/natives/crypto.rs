//! Hash algorithms and HMACs of `System.Security.Cryptography` (RustCrypto underneath).

use std::cell::RefCell;

use hmac::{Hmac, Mac};
use sha2::Digest;

use super::misc::{byte_array, bytes_of};
use super::{Call, Registry};
use crate::eval::Interp;
use crate::value::{Exception, Obj, Value};

fn digest(alg: &str, data: &[u8]) -> Vec<u8> {
    match alg {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA1" => sha1::Sha1::digest(data).to_vec(),
        "SHA384" => sha2::Sha384::digest(data).to_vec(),
        "SHA512" => sha2::Sha512::digest(data).to_vec(),
        _ => sha2::Sha256::digest(data).to_vec(),
    }
}

fn hmac(alg: &str, key: &[u8], data: &[u8]) -> Vec<u8> {
    macro_rules! run {
        ($d:ty) => {{
            match <Hmac<$d> as Mac>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }};
    }
    match alg {
        "MD5" => run!(md5::Md5),
        "SHA1" => run!(sha1::Sha1),
        "SHA384" => run!(sha2::Sha384),
        "SHA512" => run!(sha2::Sha512),
        _ => run!(sha2::Sha256),
    }
}

/// The algorithm a type name stands for (`HMACSHA256` → `SHA256`, keyed).
fn algorithm(type_name: &str) -> (&'static str, bool) {
    let keyed = type_name.starts_with("HMAC");
    let alg = if type_name.contains("MD5") {
        "MD5"
    } else if type_name.contains("SHA1") {
        "SHA1"
    } else if type_name.contains("384") {
        "SHA384"
    } else if type_name.contains("512") {
        "SHA512"
    } else {
        "SHA256"
    };
    (alg, keyed)
}

fn owner_name(it: &Interp, c: &Call<'_>) -> String {
    it.lib.ty(c.member.owner).name.clone()
}

fn create(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let (alg, keyed) = algorithm(&owner_name(it, c));
    let key = if keyed {
        Some(match c.args.first() {
            Some(v @ Value::Array(_)) => bytes_of(v)?,
            _ => Vec::new(),
        })
    } else {
        None
    };
    Ok(Value::obj(Obj::Hasher(alg, RefCell::new(key))))
}

fn compute(c: &mut Call<'_>) -> Result<Value, Exception> {
    let Value::Obj(o) = &c.recv else {
        return Err(Exception::null_ref());
    };
    let Obj::Hasher(alg, key) = &**o else {
        return Err(Exception::null_ref());
    };
    let mut data = bytes_of(c.arg(0)).map_err(|_| Exception::arg_null("buffer"))?;
    if c.len() == 3 {
        let (off, n) = (
            crate::convert::as_i64(c.arg(1)),
            crate::convert::as_i64(c.arg(2)),
        );
        if off < 0 || n < 0 || (off + n) as usize > data.len() {
            return Err(Exception::new(
                "ArgumentException",
                "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.",
            ));
        }
        data = data[off as usize..(off + n) as usize].to_vec();
    }
    let out = match &*key.borrow() {
        Some(k) => hmac(alg, k, &data),
        None => digest(alg, &data),
    };
    Ok(byte_array(&out))
}

pub(crate) fn register(r: &mut Registry) {
    for t in ["MD5", "SHA1", "SHA256", "SHA384", "SHA512"] {
        r.insert(Box::leak(format!("{t}.Create/*").into_boxed_str()), create);
        r.insert(
            Box::leak(format!("{t}Managed.new/*").into_boxed_str()),
            create,
        );
        r.insert(
            Box::leak(format!("{t}.HashData/*").into_boxed_str()),
            |it, c| {
                let (alg, _) = algorithm(&owner_name(it, c));
                Ok(byte_array(&digest(alg, &bytes_of(c.arg(0))?)))
            },
        );
        r.insert(Box::leak(format!("HMAC{t}.new/*").into_boxed_str()), create);
        r.insert(
            Box::leak(format!("HMAC{t}.HashData/*").into_boxed_str()),
            |it, c| {
                let (alg, _) = algorithm(&owner_name(it, c));
                Ok(byte_array(&hmac(
                    alg,
                    &bytes_of(c.arg(0))?,
                    &bytes_of(c.arg(1))?,
                )))
            },
        );
    }
    r.insert("HashAlgorithm.ComputeHash/*", |_, c| compute(c));
    r.insert("HashAlgorithm.Dispose/*", |_, _| Ok(Value::Null));
    r.insert("HashAlgorithm.Clear/*", |_, _| Ok(Value::Null));
    r.insert("KeyedHashAlgorithm.Key", |_, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Hasher(_, k) => Ok(k.borrow().as_deref().map_or(Value::Null, byte_array)),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    r.insert("set:KeyedHashAlgorithm.Key", |_, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Hasher(_, k) => {
                *k.borrow_mut() = Some(bytes_of(c.arg(0))?);
                Ok(Value::Null)
            }
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
}
