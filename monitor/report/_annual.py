"""The 政府网站工作年度报表 (国办函〔2018〕12号) as far as the monitor observes it: 信息发布 counts
from tagged columns, 专栏专题 and 解读回应 from tagged columns, the identity fields it knows.

Every other field of the published form is listed, blank, for the office to fill: the monitor
never invents a visit count or a security measure. Counting rules: docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from monitor.config import FORM_TAGS
from monitor.models import PageKind
from monitor.store import History, PageRow, to_ms

INFO_TAGS, (SPECIAL_TAG, INTERPRETATION_TAG) = FORM_TAGS[:3], FORM_TAGS[3:]
"""Page tags the form reads (config.FORM_TAGS; config validation warns about near misses)."""

IDENTITY_KEYS = ("sponsor", "site_code", "icp", "police")
"""Identity fields of the form: from config (sites[].identity, site_code) or, where not configured,
from what the homepage's footer showed at its latest integrity reading (listed in `observed`)."""

LATE_S = 7 * 86400
"""An item first seen more than 7 days after its publish date is flagged late: it was there before
the monitor watched (or the site backdated it), so the monitor did not see it published."""

FORM: tuple[tuple[str, str, str | None], ...] = (
    ("网站基本信息", "网站名称", "site_title"),
    ("网站基本信息", "首页网址", "home_url"),
    ("网站基本信息", "主办单位", "sponsor"),
    ("网站基本信息", "网站类型", None),
    ("网站基本信息", "政府网站标识码", "site_code"),
    ("网站基本信息", "ICP备案号", "icp"),
    ("网站基本信息", "公安机关备案号", "police"),
    ("网站基本信息", "独立用户访问总量（单位：个）", None),
    ("网站基本信息", "网站总访问量（单位：次）", None),
    ("信息发布（单位：条）", "总数", "info_total"),
    ("信息发布（单位：条）", "概况类信息更新量", "概况类"),
    ("信息发布（单位：条）", "政务动态信息更新量", "政务动态"),
    ("信息发布（单位：条）", "信息公开目录信息更新量", "信息公开目录"),
    ("专栏专题（单位：个）", "维护数量", "special_maintained"),
    ("专栏专题（单位：个）", "新开设数量", "special_opened"),
    ("解读回应", "解读信息发布 总数（单位：条）", "interpretations"),
    ("解读回应", "其中：解读材料数量（单位：条）", None),
    ("解读回应", "解读产品数量（单位：个）", None),
    ("解读回应", "媒体评论文章数量（单位：篇）", None),
    ("解读回应", "回应公众关注热点或重大舆情数量（单位：次）", None),
    ("办事服务", "是否发布服务事项目录", None),
    ("办事服务", "注册用户数（单位：个）", None),
    ("办事服务", "政务服务事项数量（单位：项）", None),
    ("办事服务", "可全程在线办理政务服务事项数量（单位：项）", None),
    ("办事服务", "办件量 总数（单位：件）", None),
    ("互动交流", "是否使用统一平台", None),
    ("互动交流", "留言办理 收到留言数量（单位：条）", None),
    ("互动交流", "办结留言数量（单位：条）", None),
    ("互动交流", "平均办理时间（单位：天）", None),
    ("互动交流", "公开答复数量（单位：条）", None),
    ("互动交流", "征集调查期数（单位：期）", None),
    ("互动交流", "在线访谈期数（单位：期）", None),
    ("互动交流", "是否提供智能问答", None),
    ("安全防护", "安全检测评估次数（单位：次）", None),
    ("安全防护", "发现问题数量（单位：个）", None),
    ("安全防护", "问题整改数量（单位：个）", None),
    ("安全防护", "是否建立安全监测预警机制", None),
    ("安全防护", "是否开展应急演练", None),
    ("安全防护", "是否明确网站安全负责人", None),
    ("移动新媒体", "是否有移动新媒体", None),
    ("创新发展", "搜索即服务、多语言版本、无障碍浏览、千人千网等", None),
)
"""The published form's rows in its order: (section, field, key of the observed value or None
for a field the monitor cannot observe, left blank)."""


@dataclass(frozen=True)
class AnnualForm:
    """The observed figures of one site's form for the report period (a calendar year with
    `--year`), keyed as in FORM; `late` = items counted whose first sighting was late."""

    first: date
    last: date
    values: tuple[tuple[str, int | str | None], ...]
    late: int
    monthly: tuple[tuple[str, str, int], ...] = ()
    """(tag, 'YYYY-MM', items) for the 信息发布 tags: the items-per-month chart."""
    observed: tuple[str, ...] = ()
    """Identity keys filled from the homepage (nothing configured for them), not from config."""

    def value(self, key: str | None) -> int | str | None:
        return None if key is None else dict(self.values).get(key)

    def with_identity(self, configured: Mapping[str, str], shown: Mapping[str, str]) -> AnnualForm:
        """The form with the identity fields (keys of IDENTITY_KEYS): what the office configured, else
        what the homepage showed. A configured value always wins: it is the office's statement."""
        given = {key: value for key, value in configured.items() if key in IDENTITY_KEYS and value}
        seen = {key: value for key, value in shown.items() if key in IDENTITY_KEYS and value and key not in given}
        if not given and not seen:
            return self
        values = tuple({**dict(self.values), **seen, **given}.items())
        return replace(self, values=values, observed=tuple(key for key in IDENTITY_KEYS if key in seen))

    def rows(self) -> list[tuple[str, str, int | str | None]]:
        return [(section, field, self.value(key)) for section, field, key in FORM]


def annual_form(
    history: History,
    rows: Sequence[PageRow],
    title: str,
    span: tuple[date, date, int, int],
    added: Mapping[int, float] | None = None,
) -> AnnualForm:
    """The form for the site whose pages are `rows`; `span` = the period's first and last local
    dates and its [start_ms, end_ms); `added` = `history.pages_added()` when the caller has it
    (a report of thousands of sites reads it once, not once a site)."""
    first, last, start_ms, end_ms = span
    added = history.pages_added() if added is None else added
    tagged = {tag: [r.id for r in rows if tag in r.tags] for tag in FORM_TAGS}
    info_ids = sorted({i for tag in INFO_TAGS for i in tagged[tag]})
    special = [r for r in rows if SPECIAL_TAG in r.tags and r.kind == PageKind.COLUMN.value]
    home = next((r for r in rows if r.kind == PageKind.HOMEPAGE.value), None)
    values: dict[str, int | str | None] = {
        "site_title": title,
        "home_url": home.url if home else None,
        "info_total": history.items_published(info_ids, first, last),
        **{tag: history.items_published(tagged[tag], first, last) for tag in INFO_TAGS},
        "special_maintained": len(special),
        "special_opened": sum(1 for r in special if start_ms <= to_ms(added.get(r.id, 0.0)) < end_ms),
        "interpretations": history.items_published(tagged[INTERPRETATION_TAG], first, last),
    }
    late = history.items_seen_late(sorted(set(info_ids) | set(tagged[INTERPRETATION_TAG])), first, last, LATE_S)
    monthly = tuple(
        (tag, month, n)
        for tag in INFO_TAGS
        for month, n in sorted(history.items_by_month(tagged[tag], first, last).items())
    )
    return AnnualForm(first, last, tuple(values.items()), late, monthly)
