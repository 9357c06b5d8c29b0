//! Offset maps: from positions in a decoded text back to byte offsets in the original file.
//!
//! Expressions are parsed from text in which the five XML entities (and numeric character
//! references) have been decoded, and, once named values are known, in which `{{name}}` has been
//! replaced. Both change lengths. An [`OffsetMap`] records, for each point where the decoded
//! text and the original drift apart, the pair of offsets, so a span found in decoded text is
//! mapped back to the exact bytes of the file.

/// Pairs of (decoded offset, original offset), sorted by both; between two points the texts
/// advance together byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetMap {
    points: Vec<(u32, u32)>,
    /// Length of the decoded text this map covers.
    decoded_len: u32,
    /// Original offset one past the end of the covered text.
    raw_end: u32,
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl OffsetMap {
    /// The map of a text copied verbatim from the original, starting at original offset `base`.
    pub fn identity(base: usize, len: usize) -> Self {
        OffsetMap {
            points: vec![(0, u32_of(base))],
            decoded_len: u32_of(len),
            raw_end: u32_of(base + len),
        }
    }

    /// Original offset of decoded offset `d`. Offsets inside a decoded entity map to the
    /// entity's start; the end of the text maps to the end of the original range.
    pub fn to_raw(&self, d: usize) -> usize {
        let d = u32_of(d);
        if d >= self.decoded_len {
            return self.raw_end as usize;
        }
        let i = self.points.partition_point(|p| p.0 <= d).saturating_sub(1);
        let (pd, pr) = self.points[i];
        let next_raw = self.points.get(i + 1).map_or(self.raw_end, |p| p.1);
        (pr + (d - pd)).min(next_raw) as usize
    }

    /// Decoded offset of original offset `r` (the start of an entity maps to its character).
    pub fn to_decoded(&self, r: usize) -> usize {
        let r = u32_of(r);
        let i = self.points.partition_point(|p| p.1 <= r).saturating_sub(1);
        let (pd, pr) = self.points[i];
        let next_dec = self.points.get(i + 1).map_or(self.decoded_len, |p| p.0);
        (pd + r.saturating_sub(pr)).min(next_dec) as usize
    }

    /// The map of the decoded range `start..end`, with offsets counted from `start`.
    pub fn slice(&self, start: usize, end: usize) -> OffsetMap {
        let (s, e) = (u32_of(start), u32_of(end));
        let mut points = vec![(0, u32_of(self.to_raw(start)))];
        for &(pd, pr) in &self.points {
            if pd > s && pd < e {
                points.push((pd - s, pr));
            }
        }
        OffsetMap {
            points,
            decoded_len: e - s,
            raw_end: u32_of(self.to_raw(end)),
        }
    }

    /// Length of the decoded text.
    pub fn decoded_len(&self) -> usize {
        self.decoded_len as usize
    }

    /// The composition: offsets of this map's decoded text to the original of `outer`, where
    /// this map's "original" is `outer`'s decoded text.
    #[must_use]
    pub fn then(&self, outer: &OffsetMap) -> OffsetMap {
        let mut points: Vec<(u32, u32)> = self
            .points
            .iter()
            .map(|&(d, r)| (d, u32_of(outer.to_raw(r as usize))))
            .collect();
        // Where `outer` changes slope inside this map's range, add a point too.
        let (lo, hi) = (self.to_raw(0), self.to_raw(self.decoded_len()));
        for &(od, or) in &outer.points {
            let od = od as usize;
            if od > lo && od < hi {
                let d = self.to_decoded(od);
                points.push((u32_of(d), or));
            }
        }
        points.sort_unstable();
        points.dedup_by_key(|p| p.0);
        OffsetMap {
            points,
            decoded_len: self.decoded_len,
            raw_end: u32_of(outer.to_raw(self.raw_end as usize)),
        }
    }

    /// Whether the map is the identity from offset 0 (nothing was replaced).
    pub fn is_identity(&self) -> bool {
        self.points == [(0, 0)] && self.raw_end == self.decoded_len
    }
}

/// Builds a decoded text piece by piece, recording where it drifts from the original.
#[derive(Debug)]
pub struct MapBuilder {
    text: String,
    points: Vec<(u32, u32)>,
}

impl MapBuilder {
    /// Starts at original offset `base`.
    pub fn new(base: usize, capacity: usize) -> Self {
        MapBuilder {
            text: String::with_capacity(capacity),
            points: vec![(0, u32_of(base))],
        }
    }

    /// Appends text copied verbatim from original offset `raw`.
    pub fn copy(&mut self, raw: usize, s: &str) {
        self.mark(raw);
        self.text.push_str(s);
    }

    /// Appends text that replaces something else, starting at original offset `raw`.
    pub fn replace(&mut self, raw: usize, s: &str) {
        self.mark(raw);
        self.text.push_str(s);
    }

    fn mark(&mut self, raw: usize) {
        let d = u32_of(self.text.len());
        let r = u32_of(raw);
        let (ld, lr) = self.points.last().copied().unwrap_or((0, 0));
        if i64::from(r) - i64::from(lr) == i64::from(d) - i64::from(ld) {
            return;
        }
        match self.points.last_mut() {
            Some(last) if last.0 == d => *last = (d, r),
            _ => self.points.push((d, r)),
        }
    }

    /// Finishes; `raw_end` is the original offset just past the covered text.
    pub fn finish(mut self, raw_end: usize) -> (String, OffsetMap) {
        self.mark(raw_end);
        let decoded_len = u32_of(self.text.len());
        if self.points.len() > 1 && self.points.last().is_some_and(|p| p.0 == decoded_len) {
            self.points.pop();
        }
        (
            self.text,
            OffsetMap {
                points: self.points,
                decoded_len,
                raw_end: u32_of(raw_end),
            },
        )
    }
}

/// Decodes the five XML entities and numeric character references of `raw` (which starts at
/// original offset `base`). Anything else after `&` stays as written.
pub fn decode_entities(raw: &str, base: usize) -> (String, OffsetMap) {
    let mut b = MapBuilder::new(base, raw.len());
    let mut copied = 0;
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr_amp(&bytes[i..]) {
        let at = i + off;
        if let Some((ch, len)) = entity_at(&raw[at..]) {
            b.copy(base + copied, &raw[copied..at]);
            let mut buf = [0u8; 4];
            b.replace(base + at, ch.encode_utf8(&mut buf));
            copied = at + len;
            i = at + len;
        } else {
            i = at + 1;
        }
    }
    b.copy(base + copied, &raw[copied..]);
    b.finish(base + raw.len())
}

fn memchr_amp(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'&')
}

/// The character an entity at the start of `s` stands for, and its length.
pub fn entity_at(s: &str) -> Option<(char, usize)> {
    const NAMED: [(&str, char); 5] = [
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
        ("&quot;", '"'),
        ("&apos;", '\''),
    ];
    for (name, ch) in NAMED {
        if s.starts_with(name) {
            return Some((ch, name.len()));
        }
    }
    let rest = s.strip_prefix("&#")?;
    let semi = rest.bytes().take(34).position(|b| b == b';')?;
    if semi == 0 || semi > 32 {
        return None;
    }
    let body = &rest[..semi];
    let code = if let Some(hex) = body.strip_prefix('x') {
        u32::from_str_radix(hex, 16).ok()?
    } else {
        body.parse::<u32>().ok()?
    };
    let ch = char::from_u32(code)?;
    Some((ch, semi + 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_maps_back() {
        let raw = "a &lt; b &amp;&amp; c &quot;x&quot; &#65;";
        let (text, map) = decode_entities(raw, 100);
        assert_eq!(text, "a < b && c \"x\" A");
        for (d, ch) in text.char_indices() {
            let r = map.to_raw(d) - 100;
            match ch {
                '<' => assert_eq!(&raw[r..r + 4], "&lt;"),
                '&' => assert_eq!(&raw[r..r + 5], "&amp;"),
                '"' => assert_eq!(&raw[r..r + 6], "&quot;"),
                'A' => assert_eq!(&raw[r..r + 5], "&#65;"),
                c => assert_eq!(raw[r..].chars().next(), Some(c)),
            }
            assert_eq!(map.to_decoded(r + 100), d);
        }
        assert_eq!(map.to_raw(text.len()), 100 + raw.len());
    }

    #[test]
    fn leaves_bare_ampersands() {
        let (text, map) = decode_entities("a && b &foo; &#xZZ;", 0);
        assert_eq!(text, "a && b &foo; &#xZZ;");
        assert_eq!(map.to_raw(7), 7);
    }

    #[test]
    fn slices_keep_offsets() {
        let raw = "xx&quot;ab&quot;cd";
        let (text, map) = decode_entities(raw, 10);
        assert_eq!(text, "xx\"ab\"cd");
        let local = map.slice(2, 6);
        assert_eq!(local.to_raw(0), 12);
        assert_eq!(local.to_raw(1), 18);
        assert_eq!(local.to_raw(3), 20);
        assert_eq!(local.to_raw(4), 26);
    }

    #[test]
    fn composes_with_an_outer_map() {
        // original: `a {{x}} b`, substituted: `a VALUE b`, then a slice `VALUE b` of it.
        let mut b = MapBuilder::new(0, 16);
        b.copy(0, "a ");
        b.replace(2, "VALUE");
        b.copy(7, " b");
        let (text, outer) = b.finish(9);
        assert_eq!(text, "a VALUE b");
        let inner = OffsetMap::identity(0, text.len()).slice(2, 9);
        let both = inner.then(&outer);
        assert_eq!(both.to_raw(0), 2);
        assert_eq!(both.to_raw(5), 7);
        assert_eq!(both.to_raw(7), 9);
    }

    #[test]
    fn identity_maps() {
        let m = OffsetMap::identity(5, 10);
        assert_eq!(m.to_raw(3), 8);
        assert_eq!(m.to_decoded(8), 3);
        assert_eq!(m.to_raw(10), 15);
    }
}
