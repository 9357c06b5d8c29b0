@{
    var n = 0;
    foreach (var c in "a1b2") { if (char.IsDigit(c)) n++; }
    return n;
}
