#!/usr/bin/env python3
"""Generates the seeded compliance frameworks (issue 20) from the seed texts, so that no item is hand-typed.

    python3 docs/compliance/generate_seed_frameworks.py SEEDS_DIR REQUIREMENTS_MD OUT_DIR

Reads seed 004 (the role-sharing checklist's 「推奨される対応例（案）」 tables, which hold every row of the bare
tables plus the 立入検査用チェックリスト該当項目 rows) and the requirement catalogue (requirements.md), and writes
three framework files in the format of docs/compliance-frameworks.md. Only HTML markup (<b>, <del>) is removed from
the seed's cells; the words are kept as the seed has them. An item maps to the requirement IDs whose source column
cites the seed line the item is on ("004 ... L133"); the few items no row cites are mapped in MAPPED_BY_HAND.

The catalogue's items are Japanese first: their title and text come from requirements-ja.tsv next to this script (ID,
short title, text, separated by tabs), the English first sentence of requirements.md is kept as textEn. The generator
stops when an ID has no Japanese row, a row names an ID the catalogue lacks, or a Japanese text has no Japanese in it.
"""
import json
import re
import sys
from pathlib import Path

CIRCLED = "①②③④⑤"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# a full stop after these does not end the sentence ("e.g. at a vendor switch")
ABBREVIATION = re.compile(r"(\be\.g|\bi\.e|\bcf|\bvs|\betc|\bNo|\bv\d+(\.\d+)*|§\d+(\.\d+)*)\.$")



# Items of 004 that no row of the requirement catalogue cites by line: mapped by hand to the requirements that say
# the same thing, so that their evidence (probes, registers, documents) reaches them. Each choice is the catalogue
# row whose text is this item's obligation, read against the item's own words.
MAPPED_BY_HAND = {
    # 事業者からサービス仕様適合開示書等（MDS/SDS、MDS2等）を確認しているか。
    "p1-a-1": ["GOV-12", "GOV-31"],
    # 厚労省ガイドラインに関連する部分等を確認したか。
    "p1-b-1": ["GOV-11", "GOV-38"],
    # 立入検査用チェックリストを用いて、契約時に医療情報システムの現状把握および対応を実施しているか。
    "p1-b-2": ["GOV-28", "GOV-29", "GOV-30"],
    # 医療情報システムの管理や運用を適切に行っているか。
    "p1-b-5": ["GOV-29", "GOV-35"],
    # システム構築等を実施する際に、医療機関として状況を適切に把握し、必要に応じて事業者に説明ができるようになっているか。
    "p1-b-6-2": ["GOV-34"],
    # BCPについて、定期的な見直しや従業員への訓練・周知等を行っているか。
    "p1-c-3": ["GOV-30", "DEGRADED-8", "HR-6"],
    # 事業者は2省ガイドラインで関連する部分等を確認したか。
    "p2-a-1": ["GOV-20", "GOV-38"],
    # 個人情報の適切な取り扱いについて取り決める。
    "p2-a-8": ["GOV-22", "HR-3", "HR-8"],
}

def first_sentence(text):
    for m in re.finditer(r"(?<=[.。])\s", text):
        if not ABBREVIATION.search(text[:m.start()]):
            return text[:m.start()]
    return text


def japanese(path, ids):
    """The Japanese title and text per requirement ID; stops on a gap, an unknown ID or a text without Japanese."""
    out = {}
    for no, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 3 or not all(c.strip() for c in cells):
            sys.exit("%s:%d: expected ID, title and text separated by two tabs" % (path, no))
        rid, title, text = (c.strip() for c in cells)
        if rid in out:
            sys.exit("%s:%d: %s twice" % (path, no, rid))
        if rid not in ids:
            sys.exit("%s:%d: %s is not in the catalogue" % (path, no, rid))
        if not JAPANESE.search(title) or not JAPANESE.search(text):
            sys.exit("%s:%d: %s has no Japanese text" % (path, no, rid))
        out[rid] = (title, text)
    missing = [r for r in ids if r not in out]
    if missing:
        sys.exit("%s: no Japanese text for %d requirement(s): %s" % (path, len(missing), ", ".join(missing)))
    return out


def clean(cell):
    cell = re.sub(r"<del>.*?</del>", "", cell)
    cell = re.sub(r"<[^>]+>", "", cell)
    return re.sub(r"\s+", " ", cell).strip()


def catalogue(md):
    rows, sections, cites = [], [], {}
    family = None
    for line in md.split("\n"):
        h = re.match(r"^### 2\.\d+ ([A-Z/ ]+) — (.*)$", line)
        if h:
            family = h.group(1).strip()
            title = h.group(2).strip()
            ja = re.search(r"（(.*)）|\((.*)\)\s*$", title)
            sections.append({"id": "sec-" + re.sub(r"[^a-z]+", "-", family.lower()).strip("-"),
                             "title": {"ja": (ja.group(1) or ja.group(2)) if ja else title,
                                       "en": re.sub(r"\s*[（(].*$", "", title)}})
            continue
        m = re.match(r"^\| ([A-Z]+-[0-9]+) \| (.*?) \| (.*?) \|", line)
        if not m or family is None:
            continue
        rid, text, source = m.group(1), m.group(2).strip(), m.group(3)
        first = first_sentence(text.replace("**", ""))
        rows.append({"id": rid, "section": sections[-1]["id"], "text": first})
        for seg in re.findall(r"004 [^;]*", source):
            for a, b in re.findall(r"L(\d+)(?:[–-]L?(\d+))?", seg):
                for n in range(int(a), int(b or a) + 1):
                    cites.setdefault(n, []).append(rid)
    return rows, sections, cites


def role_sharing(lines, cites):
    """Rows of the 推奨される対応例 tables: (part, section title, cells, line number)."""
    out = []
    part = None
    section = None
    for no, raw in enumerate(lines, start=1):
        if no < 74 or no > 170:
            continue
        line = raw.rstrip("\n")
        if line.startswith("Part1 "):
            part = 1
        elif line.startswith("Part2 "):
            part = 2
        s = re.match(r"^<b>(.*?)</b>", line)
        if s:
            section = clean(s.group(1))
            continue
        if "\t" not in line or line.startswith("項番"):
            continue
        out.append((part, section, [c for c in line.split("\t")], no))
    return out


def main():
    seeds, req_md, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    reqs, req_sections, cites = catalogue(req_md.read_text(encoding="utf-8"))
    ja_texts = japanese(Path(__file__).with_name("requirements-ja.tsv"), [r["id"] for r in reqs])
    seed = next(seeds.glob("004_*.txt"))
    lines = seed.read_text(encoding="utf-8").split("\n")
    # The bare Part2 table (L40-66) names 分類 and 項目 in two cells where the detailed table merges them.
    bare2 = {}
    sec = None
    for no, line in enumerate(lines, start=1):
        if 40 <= no <= 66:
            s = re.match(r"^<b>([A-Z]) ", line)
            if s:
                sec = s.group(1)
            elif "\t" in line and sec:
                c = line.split("\t")
                bare2[(sec, c[0].strip())] = (c[1].strip(), c[2].strip())
    source = {"document": "医療情報システムの契約における関係者間の役割分担等に関するチェックリスト（案）"
                          " 推奨される対応例（案） 資料3",
              "date": "日付の記載なし（案） / undated draft", "url": None,
              "seed": "shared/seeds/" + seed.name}
    sections_rs, items_rs, sections_in, items_in = [], [], [], []
    last = {}
    for part, section, c, no in role_sharing(lines, cites):
        inspection = section.startswith("立入検査")
        letter = "K" if inspection else section[0]
        sec_id = "p%d-%s" % (part, letter.lower())
        target_sections = sections_in if inspection else sections_rs
        if not any(s["id"] == sec_id for s in target_sections):
            ja = ("Part%d %s" % (part, section)) if not inspection else (
                "Part%d 立入検査用チェックリスト該当項目（%s）" % (part, "医療機関" if part == 1 else "共同"))
            en = {"p1-k": "Part 1, items of the on-site inspection checklist (institution)",
                  "p1-a": "Part 1 A, choosing and managing vendors", "p1-b": "Part 1 B, the institution's organisation",
                  "p1-c": "Part 1 C, rules and regulations",
                  "p2-k": "Part 2, items of the on-site inspection checklist (joint)",
                  "p2-a": "Part 2 A, common items", "p2-b": "Part 2 B, system introduction contract",
                  "p2-c": "Part 2 C, maintenance and operation contract"}[sec_id]
            target_sections.append({"id": sec_id, "title": {"ja": ja, "en": en}})
        cells = [x.strip() for x in c]
        if part == 1:
            num, title, text, examples, refs = cells[0], cells[1], cells[2], cells[3], cells[4]
            category, risks = None, None
        elif len(cells) >= 8 and cells[0] == "" and cells[1] == "" and cells[2] == "" and cells[3] == "":
            # L152: the second risk of A9, its own row with no number, title or text
            prev = last[sec_id]
            num, category, title, text = prev["_num"], prev["category"], prev["title"], prev["text"]
            risks, examples, refs = cells[4], cells[5], cells[6]
        elif len(cells) >= 8 and not (cells[0] and letter in "BC" and len(cells) == 7):
            num, category, title, text, risks, examples, refs = cells[:7]
            if letter in "BC" and (letter, num) in bare2:
                category, title = bare2[(letter, num)]
        else:
            num, merged, text, risks, examples, refs = cells[:6]
            category, title = bare2[(letter, num)]
        inherited = num == "" and sec_id in last
        base = last[sec_id]["_num"] if inherited else num
        if inherited and not text:
            text = last[sec_id]["text"]
        t = clean(text)
        sub = ""
        if t[:1] in CIRCLED and not any(x in t[1:] for x in CIRCLED):
            sub = t[0]  # one of several rows under one number (4① and 4②), not a row holding ① and ② both
        elif cells[0] == "" and cells[1] == "" and len(cells) >= 8 and cells[2] == "":
            sub = "②"
        number = base + sub
        ids = [x["id"] for x in (items_in if inspection else items_rs)]
        item_id = "%s-%s" % (sec_id, base) + ("-%d" % (CIRCLED.index(sub) + 1) if sub else "")
        if item_id in ids:
            item_id += "-2"
        item = {"id": item_id, "section": sec_id, "number": number}
        if category:
            item["category"] = clean(category)
        item["title"] = clean(title)
        item["text"] = t
        item["party"] = "医療機関" if part == 1 else "共同"
        item["examples"] = clean(examples) or None
        item["risks"] = clean(risks) if risks else None
        item["references"] = [clean(refs)] if clean(refs) else []
        item["requirements"] = sorted(set(cites.get(no, [])) | set(MAPPED_BY_HAND.get(item_id, [])),
                                      key=lambda r: [x["id"] for x in reqs].index(r))
        item["seedLine"] = no
        (items_in if inspection else items_rs).append(item)
        last[sec_id] = dict(item, _num=base)
    for items in (items_rs, items_in):
        for it in items:
            if it["examples"] is None:
                del it["examples"]
            if it["risks"] is None:
                del it["risks"]
    write(out / "role-sharing-2026.json", {
        "format": 1, "id": "role-sharing", "version": "2026", "fiscalYear": 2026,
        "title": {"ja": "医療情報システムの契約における関係者間の役割分担等に関するチェックリスト（案）",
                  "en": "Role-sharing checklist for medical information system contracts (draft)"},
        "source": source, "sections": sections_rs, "items": items_rs})
    write(out / "onsite-inspection-2026.json", {
        "format": 1, "id": "onsite-inspection", "version": "2026", "fiscalYear": 2026,
        "title": {"ja": "立入検査用チェックリスト該当項目（役割分担チェックリスト（案）が引用するもの）",
                  "en": "On-site inspection checklist items as quoted by the role-sharing checklist (draft)"},
        "source": dict(source, document="医療機関におけるサイバーセキュリティ対策チェックリスト（令和5年6月）の該当項目、"
                                        "役割分担チェックリスト（案）推奨される対応例（案）資料3 による引用"),
        "sections": sections_in, "items": items_in})
    write(out / "mamori-requirements-2026.json", {
        "format": 1, "id": "mamori-requirements", "version": "2026", "fiscalYear": 2026,
        "title": {"ja": "Mamori 要件カタログ", "en": "Mamori requirement catalogue"},
        "source": {"document": "Mamori 要件カタログ（ガイドライン・チェックリストの要求事項の一覧） / Mamori requirement catalogue",
                   "date": "2026", "url": None, "seed": "shared/docs/requirements.md"},
        "sections": req_sections,
        "items": [{"id": r["id"], "section": r["section"], "number": r["id"], "title": ja_texts[r["id"]][0],
                   "titleEn": r["id"], "text": ja_texts[r["id"]][1], "textEn": r["text"],
                   "party": "共同", "references": [], "requirements": [r["id"]]} for r in reqs]})


def write(path, data):
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(path, len(data["items"]), "items")


if __name__ == "__main__":
    main()
