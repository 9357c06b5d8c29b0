//! Types as written in code: `int`, `List<string>`, `System.Text.Encoding`, `JObject[]`.

use turnpike_diagnostics::codes;
use turnpike_ir::Ty;
use turnpike_ir::library::TypeKind;
use turnpike_ir::ty::Prim;
use turnpike_syntax::ast::{TypeKind as AstType, TypeRef};

use crate::Checker;

/// Types APIM allows in expressions (its documented list) that the type model does not
/// describe yet: using one is `unsupported-expression`, not an error.
pub(crate) const ALLOWED_BUT_UNMODELLED: &[&str] = &[
    "JConstructor",
    "JRaw",
    "Extensions",
    "AsymmetricAlgorithm",
    "CipherMode",
    "HashAlgorithmName",
    "Oid",
    "PaddingMode",
    "RNGCryptoServiceProvider",
    "RSA",
    "RSAEncryptionPadding",
    "RSASignaturePadding",
    "SymmetricAlgorithm",
    "PublicKey",
    "RSACertificateExtensions",
    "X500DistinguishedName",
    "X509Certificate",
    "X509ContentType",
    "X509NameType",
    "StringReader",
    "StringWriter",
    "IPAddress",
    "TimeZone",
    "TimeZoneInfo",
    "XCData",
    "XComment",
    "XContainer",
    "XDeclaration",
    "XDocumentType",
    "XNode",
    "XNodeDocumentOrderComparer",
    "XNodeEqualityComparer",
    "XObject",
    "XProcessingInstruction",
    "XText",
    "XmlNodeType",
    "Queue",
    "Stack",
    "ISet",
    "IEnumerator",
    "MidpointRounding",
    "UriPartial",
    "Tuple",
    "XElement",
    "XDocument",
    "XAttribute",
    "XName",
    "XNamespace",
    "Aes",
    "HMACMD5",
    "HMACSHA1",
    "HMACSHA384",
    "HMACSHA512",
    "MD5",
    "SHA1",
    "SHA384",
    "SHA512",
    "SHA1Managed",
    "SHA256Managed",
    "SHA384Managed",
    "SHA512Managed",
    "HashAlgorithm",
    "KeyedHashAlgorithm",
    "HMAC",
    "X509Certificate2",
    "DateTimeKind",
    "BitConverter",
    "JTokenType",
];

/// Well-known .NET types APIM refuses (file system, processes, network, threads, reflection).
pub(crate) const NOT_ALLOWED: &[&str] = &[
    "File",
    "Directory",
    "Path",
    "FileInfo",
    "DirectoryInfo",
    "FileStream",
    "StreamReader",
    "StreamWriter",
    "Process",
    "Environment",
    "HttpClient",
    "WebClient",
    "WebRequest",
    "HttpWebRequest",
    "Socket",
    "TcpClient",
    "Dns",
    "Thread",
    "Task",
    "ThreadPool",
    "Assembly",
    "Activator",
    "AppDomain",
    "Console",
    "GC",
    "Marshal",
    "Registry",
    "MemoryStream",
    "Stream",
    "Timer",
    "Parallel",
    "Interlocked",
    "Monitor",
    "Mutex",
    "Semaphore",
];

impl Checker<'_> {
    /// Resolves a written type; reports and gives `Unknown` when it cannot.
    pub(crate) fn resolve_type(&mut self, t: &TypeRef) -> Ty {
        match &t.kind {
            AstType::Predefined(k) => match k.as_str() {
                "string" => Ty::String,
                "object" => Ty::Object,
                "void" => Ty::Void,
                "dynamic" => {
                    self.unsupported(t.span, "`dynamic`");
                    Ty::Unknown
                }
                "var" => Ty::Unknown,
                k => match Prim::from_name(k) {
                    Some(p) => Ty::Prim(p),
                    None => Ty::Unknown,
                },
            },
            AstType::Nullable(inner) => {
                let it = self.resolve_type(inner);
                if it.is_value_type(self.lib) {
                    Ty::Nullable(Box::new(it))
                } else {
                    it
                }
            }
            AstType::Array(inner, rank) => {
                let it = self.resolve_type(inner);
                if *rank > 1 {
                    self.unsupported(t.span, "multi-dimensional arrays");
                    return Ty::Unknown;
                }
                Ty::Array(Box::new(it))
            }
            AstType::Named(segs) => {
                let Some(last) = segs.last() else {
                    return Ty::Unknown;
                };
                if segs.len() == 1 && last.name.name == "dynamic" && last.args.is_empty() {
                    self.unsupported(t.span, "`dynamic`");
                    return Ty::Unknown;
                }
                let args: Vec<Ty> = last.args.iter().map(|a| self.resolve_type(a)).collect();
                let name = last.name.name.as_str();
                let ns: Vec<&str> = segs[..segs.len() - 1]
                    .iter()
                    .map(|s| s.name.name.as_str())
                    .collect();
                self.named_type(name, &ns.join("."), args, t.span)
            }
        }
    }

    /// Looks up `ns.name<args>`; `ns` may be empty.
    pub(crate) fn named_type(
        &mut self,
        name: &str,
        ns: &str,
        args: Vec<Ty>,
        span: turnpike_diagnostics::Span,
    ) -> Ty {
        if ns.is_empty() && args.is_empty() {
            match name {
                "String" => return Ty::String,
                "Object" => return Ty::Object,
                _ => {}
            }
            if let Some(p) = Prim::from_name(name).filter(|p| p.clr_name() == name) {
                return Ty::Prim(p);
            }
        }
        let found = if ns.is_empty() {
            self.lib.find_type(name, args.len())
        } else {
            self.lib.find_qualified(ns, name, args.len())
        };
        match found {
            Some(id) => {
                if self.lib.ty(id).kind == TypeKind::Delegate && args.is_empty() {
                    return Ty::Named(id, args);
                }
                self.lib.ty_of_def(id, args)
            }
            None => {
                if !self.lib.types_named(name).is_empty() {
                    let arity = self.lib.ty(self.lib.types_named(name)[0]).type_params.len();
                    self.error(
                        &codes::TYPE_ARGUMENTS,
                        span,
                        format!(
                            "type `{name}` takes {arity} type argument{}, not {}",
                            if arity == 1 { "" } else { "s" },
                            args.len()
                        ),
                    )
                    .label("wrong number of type arguments");
                } else if NOT_ALLOWED.contains(&name) {
                    self.error(
                        &codes::TYPE_NOT_ALLOWED,
                        span,
                        format!("type `{name}` is not allowed in policy expressions"),
                    )
                    .label("not allowed by APIM")
                    .help("APIM allows a fixed list of .NET types; file, network, process and thread APIs are not on it");
                } else if ALLOWED_BUT_UNMODELLED.contains(&name) {
                    self.unsupported(span, &format!("type `{name}`"));
                } else {
                    let known: Vec<&str> = self.lib.types().map(|(_, t)| t.name.as_str()).collect();
                    let mut d = self
                        .error(&codes::UNKNOWN_TYPE, span, format!("unknown type `{name}`"))
                        .label("not a type policy expressions may use");
                    if let Some(s) = did_you_mean(name, known) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    drop(d);
                }
                Ty::Unknown
            }
        }
    }
}

/// The closest known name, if close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    known
        .into_iter()
        .filter(|k| *k != name)
        .map(|k| {
            (
                strsim::damerau_levenshtein(&name.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, k)| (d, k))
        .map(|(_, k)| k.to_string())
}

/// Whether a written type is `var` (an implicitly typed local).
pub(crate) fn is_var(t: &TypeRef) -> bool {
    match &t.kind {
        AstType::Predefined(k) => k == "var",
        AstType::Named(segs) => {
            segs.len() == 1 && segs[0].name.name == "var" && segs[0].args.is_empty()
        }
        _ => false,
    }
}
