//! Members of `context` and APIM's helper extensions (`GetValueOrDefault`, `As<T>`, ...).

use std::rc::Rc;

use turnpike_ir::Ty;

use super::{Call, Registry};
use crate::context::{Context, HostRef};
use crate::convert;
use crate::eval::Interp;
use crate::value::{Exception, Obj, Value};

fn host(c: &Call<'_>) -> Result<HostRef, Exception> {
    let v = if c.recv.is_null() {
        c.arg(0).clone()
    } else {
        c.recv.clone()
    };
    match v {
        Value::Obj(o) => match &*o {
            Obj::Host(h) => Ok(h.clone()),
            _ => Err(Exception::invalid_op("not a context object")),
        },
        _ => Err(Exception::null_ref()),
    }
}

fn ctx(c: &Call<'_>) -> Result<Rc<Context>, Exception> {
    match host(c)? {
        HostRef::Context(x)
        | HostRef::Message(x, _)
        | HostRef::Url(x, _)
        | HostRef::Body(x, _)
        | HostRef::Headers(x, _)
        | HostRef::Query(x, _)
        | HostRef::Matched(x)
        | HostRef::Variables(x) => Ok(x),
        HostRef::Named(_) => Err(Exception::invalid_op("not the context")),
    }
}

fn obj(h: HostRef) -> Value {
    Value::obj(Obj::Host(h))
}

fn named(n: &Option<crate::context::Named>) -> Value {
    match n {
        Some(n) => obj(HostRef::Named(Rc::new(n.clone()))),
        None => Value::Null,
    }
}

fn is_response(c: &Call<'_>) -> Result<bool, Exception> {
    Ok(match host(c)? {
        HostRef::Message(_, r) | HostRef::Headers(_, r) | HostRef::Body(_, r) => r,
        _ => false,
    })
}

fn url_of(c: &Call<'_>) -> Result<std::sync::Arc<crate::context::Url>, Exception> {
    match host(c)? {
        HostRef::Url(x, orig) => Ok(if orig {
            x.original_url.clone()
        } else {
            x.url.clone()
        }),
        _ => Err(Exception::invalid_op("not a URL")),
    }
}

pub(crate) fn named_prop(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let _ = it;
    match host(c)? {
        HostRef::Named(n) => Ok(n.get(&c.member.name)),
        _ => Err(Exception::invalid_op("not a named context object")),
    }
}

/// `GetValueOrDefault` on headers, query and other dictionaries: values joined with `,`.
fn get_value_or_default(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let d = c.arg(0).clone();
    let key = c.arg(1).clone();
    let default = if c.len() > 2 {
        c.arg(2).clone()
    } else {
        Value::Null
    };
    // Headers and query parameters read as text (the common case): the values joined
    // straight from the context, with no array built in between.
    if let (Value::Obj(o), Value::Str(k)) = (&d, &key)
        && let Obj::Host(h) = &**o
        && matches!(c.member.ty.subst(c.targs), Ty::String)
    {
        let list: Option<&[(String, Vec<String>)]> = match h {
            HostRef::Headers(x, resp) => Some(if *resp {
                &x.response.headers.0
            } else {
                &x.request.headers.0
            }),
            HostRef::Query(x, orig) => Some(if *orig {
                &x.original_url.query
            } else {
                &x.url.query
            }),
            _ => None,
        };
        if let Some(list) = list {
            return Ok(match list.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
                Some((_, values)) => Value::str(values.join(",")),
                None => default,
            });
        }
    }
    let found = super::collections::dict_get(it, &d, &key)?;
    match found {
        None => Ok(default),
        Some(v) => {
            // Generic form: convert to T, as APIM's `GetValueOrDefault<T>` casts.
            let target = c.member.ty.subst(c.targs);
            match (&v, &target) {
                (Value::Array(a), Ty::String) => {
                    let parts: Vec<String> = a
                        .items
                        .borrow()
                        .iter()
                        .map(|x| {
                            if let Value::Str(s) = x {
                                s.to_string()
                            } else {
                                String::new()
                            }
                        })
                        .collect();
                    Ok(Value::str(parts.join(",")))
                }
                (_, Ty::Object | Ty::Unknown) => Ok(v),
                _ => convert::cast(it.lib, v, &target),
            }
        }
    }
}

pub(crate) fn register(r: &mut Registry) {
    r.insert("IContext.Request", |_, c| {
        Ok(obj(HostRef::Message(ctx(c)?, false)))
    });
    r.insert("IContext.Response", |_, c| {
        Ok(obj(HostRef::Message(ctx(c)?, true)))
    });
    r.insert("IContext.Variables", |_, c| {
        Ok(obj(HostRef::Variables(ctx(c)?)))
    });
    r.insert("IContext.Api", |_, c| Ok(named(&ctx(c)?.api)));
    r.insert("IContext.Operation", |_, c| Ok(named(&ctx(c)?.operation)));
    r.insert("IContext.Product", |_, c| Ok(named(&ctx(c)?.product)));
    r.insert("IContext.Subscription", |_, c| {
        Ok(named(&ctx(c)?.subscription))
    });
    r.insert("IContext.User", |_, c| Ok(named(&ctx(c)?.user)));
    r.insert("IContext.Deployment", |_, c| {
        Ok(obj(HostRef::Named(Rc::new(ctx(c)?.deployment.clone()))))
    });
    r.insert("IContext.LastError", |_, c| Ok(named(&ctx(c)?.last_error)));
    r.insert("IContext.RequestId", |_, c| {
        Ok(Value::Guid(ctx(c)?.request_id))
    });
    r.insert("IContext.Timestamp", |it, c| {
        Ok(Value::DateTime(ctx(c)?.timestamp.unwrap_or(it.opts.now)))
    });
    r.insert("IContext.Elapsed", |_, c| {
        Ok(Value::TimeSpan(ctx(c)?.elapsed))
    });
    r.insert("IContext.Tracing", |_, c| Ok(Value::Bool(ctx(c)?.tracing)));
    r.insert("IContext.Trace/*", |it, c| {
        let x = ctx(c)?;
        let msg = convert::to_string(it, &c.arg(0).clone())?;
        x.traces.borrow_mut().push(msg);
        Ok(Value::Null)
    });
    for t in ["IRequest", "IResponse"] {
        let k = |s: &str| -> &'static str { Box::leak(format!("{t}.{s}").into_boxed_str()) };
        r.insert(k("Headers"), |_, c| {
            Ok(obj(HostRef::Headers(ctx(c)?, is_response(c)?)))
        });
        r.insert(k("Body"), |_, c| {
            let x = ctx(c)?;
            let resp = is_response(c)?;
            let m = if resp { &x.response } else { &x.request };
            Ok(if m.body.is_some() {
                obj(HostRef::Body(x.clone(), resp))
            } else {
                Value::Null
            })
        });
    }
    r.insert("IRequest.Method", |_, c| Ok(Value::str(&ctx(c)?.method)));
    r.insert("IRequest.Url", |_, c| Ok(obj(HostRef::Url(ctx(c)?, false))));
    r.insert("IRequest.OriginalUrl", |_, c| {
        Ok(obj(HostRef::Url(ctx(c)?, true)))
    });
    r.insert("IRequest.IpAddress", |_, c| {
        Ok(Value::str(&ctx(c)?.ip_address))
    });
    r.insert("IRequest.MatchedParameters", |_, c| {
        Ok(obj(HostRef::Matched(ctx(c)?)))
    });
    r.insert("IRequest.Certificate", |_, _| Ok(Value::Null));
    r.insert("IResponse.StatusCode", |_, c| {
        Ok(Value::Int(ctx(c)?.response.status))
    });
    r.insert("IResponse.StatusReason", |_, c| {
        Ok(Value::str(&ctx(c)?.response.reason))
    });
    r.insert("IUrl.Host", |_, c| Ok(Value::str(&url_of(c)?.host)));
    r.insert("IUrl.Path", |_, c| Ok(Value::str(&url_of(c)?.path)));
    r.insert("IUrl.Port", |_, c| Ok(Value::Int(url_of(c)?.port)));
    r.insert("IUrl.Scheme", |_, c| Ok(Value::str(&url_of(c)?.scheme)));
    r.insert("IUrl.QueryString", |_, c| {
        Ok(Value::str(url_of(c)?.query_string()))
    });
    r.insert("IUrl.Query", |_, c| match host(c)? {
        HostRef::Url(x, orig) => Ok(obj(HostRef::Query(x, orig))),
        _ => Err(Exception::invalid_op("not a URL")),
    });
    r.insert("IUrl.ToString/*", |_, c| {
        Ok(Value::str(url_of(c)?.to_text()))
    });
    r.insert("IMessageBody.As/*", |it, c| {
        let (x, resp) = match host(c)? {
            HostRef::Body(x, r) => (x, r),
            _ => return Err(Exception::null_ref()),
        };
        let m = if resp { &x.response } else { &x.request };
        let text = m.body.clone().unwrap_or_default();
        let target = c.member.ty.subst(c.targs);
        match target {
            Ty::String => Ok(Value::str(text)),
            Ty::Array(_) => Ok(super::misc::byte_array(text.as_bytes())),
            Ty::Named(id, _)
                if matches!(it.lib.ty(id).name.as_str(), "JObject" | "JToken" | "JArray") =>
            {
                let j = super::json::parse(&text)?;
                super::json::to_type(it, &j, &target)
            }
            other => Err(Exception::not_supported(format!(
                "Turnpike cannot read a body as `{}` yet",
                other.display(it.lib)
            ))),
        }
    });
    for owner in [
        "PolicyExtensions",
        "IReadOnlyDictionary",
        "Dictionary",
        "CollectionExtensions",
    ] {
        r.insert(
            Box::leak(format!("{owner}.GetValueOrDefault/*").into_boxed_str()),
            get_value_or_default,
        );
    }
    for t in [
        "IApi",
        "IOperation",
        "IProduct",
        "ISubscription",
        "IUser",
        "IGroup",
        "IDeployment",
        "ILastError",
        "IUserIdentity",
        "ISubscriptionKeyParameterNames",
    ] {
        for p in [
            "Id",
            "Name",
            "Path",
            "Version",
            "Revision",
            "IsCurrentRevision",
            "Method",
            "UrlTemplate",
            "Key",
            "PrimaryKey",
            "SecondaryKey",
            "Email",
            "FirstName",
            "LastName",
            "Note",
            "Source",
            "Reason",
            "Message",
            "Scope",
            "Section",
            "PolicyId",
            "Region",
            "ServiceName",
            "ServiceId",
            "GatewayId",
            "Provider",
            "State",
            "CreatedDate",
            "StartDate",
            "EndDate",
            "RegistrationDate",
            "ApprovalRequired",
            "SubscriptionRequired",
            "SubscriptionLimit",
            "Header",
            "Query",
            "Groups",
            "Identities",
            "Protocols",
            "ServiceUrl",
            "SubscriptionKeyParameterNames",
            "Apis",
            "HttpErrorCode",
        ] {
            r.insert(Box::leak(format!("{t}.{p}").into_boxed_str()), named_prop);
        }
    }
}
