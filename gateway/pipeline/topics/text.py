"""What a complaint is about and where: words, places and organisations, matter keywords.

Citizens name the same place in several ways ("丽发新城小区", "丽发新城",
"A7县丽发新城"), and a general-purpose dictionary cuts unknown names apart
("麓谷明珠" → 麓/谷/明珠). So places are found in two passes over a batch:
first by their suffixes (…小区, …苑, …村, …路, …学院, …公司, …), cut at
the left where an administrative name, a function word or a verb of
complaining begins; then every name found is added to a segmenter of the
batch's own (rjieba, a Rust port of jieba: 16,000 texts/s where jieba's
Python path does 160), so that a text naming the place without its suffix is
found too, and the place stays one word for the keywords.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rjieba

WORD_DF_PATH = Path(__file__).resolve().parents[2] / "defaults" / "word_df.json"


@lru_cache(maxsize=1)
def background_df() -> tuple[int, dict[str, int]]:
    """(messages, word → messages containing it) of a real board (ops/train_word_df.py); (0, {}) when not shipped."""
    if not WORD_DF_PATH.exists():
        return 0, {}
    data = json.loads(WORD_DF_PATH.read_text(encoding="utf-8"))
    return int(data["documents"]), dict(data["df"])

# Longest first: the alternation takes the first that matches at a position.
_SUFFIXES = sorted({
    # housing estates and buildings
    "小区", "花园", "家园", "新村", "新城", "公寓", "大厦", "广场", "山庄", "公馆", "名苑", "名城", "华府", "国际", "苑", "园", "城", "郡", "湾",
    # villages and communities
    "社区", "村", "屯",
    # roads
    "路", "街道", "街", "大道", "巷", "大街", "立交", "大桥", "隧道",
    # schools, hospitals, institutions
    "学院", "大学", "中学", "小学", "学校", "幼儿园", "医院", "卫生院", "中心",
    # organisations
    "有限公司", "公司", "集团", "银行", "工厂", "厂", "市场", "商场", "超市", "酒店", "车站",
}, key=len, reverse=True)
_SUFFIX_RE = re.compile("|".join(map(re.escape, _SUFFIXES)))
# Places that hold many matters (a road, a street office, a "centre"): sharing one says less than sharing an estate.
COARSE_SUFFIXES = ("路", "街道", "街", "大道", "巷", "大街", "立交", "大桥", "隧道", "中心", "镇", "乡")
_NUMBERED = re.compile(r"^[0-9一二三四五六七八九十百零期栋号楼座区]+$")
# Pieces of ordinary phrases that suffix matching picks up ("以下简称", "第三方造价", "人民政府"): no name holds them.
_NOT_IN_NAME = re.compile("每次|下雨|大雨|无法|提供|满足|简称|范围|第三方|人民|政府|分流|以下|股份|轨道|重点|事务|处理|建设项目|问题|相关|有关|部门|领导|业主|居民|村民")
# Generic tails that a citizen may add or leave out: the key of a place drops them.
_GENERIC_TAIL = re.compile(r"(?:小区|社区|有限公司|公司|集团)$")
# Where a name cannot extend to the left: punctuation, digits, Latin, administrative units, function words.
_LEFT_STOP = re.compile(r"[^\u4e00-\u9fff]|[市区县省镇乡州的在和与对于是把被从向到及或等这那我你他她它们该本此其个了着过也都又还就]")
_LEADING_WORDS = sorted({
    "反映", "投诉", "举报", "咨询", "关于", "请问", "建议", "要求", "希望", "位于", "地处", "住在", "家住", "居住", "隔壁", "旁边", "附近",
    "门口", "对面", "周边", "整个", "整体", "新建", "原来", "目前", "现在", "现在的", "导致", "造成", "严重影响", "影响", "配套", "安置",
    "所在", "所属", "进入", "经过", "沿着", "一个", "一家", "一所", "一条", "那条", "这条", "当地", "全市", "全区", "全县", "各个", "各", "多个",
    "一些", "部分", "有些", "涉及", "通往", "前往", "开往", "至", "经", "即", "又", "请", "让", "给", "为", "以", "说", "称", "问",
}, key=len, reverse=True)
# Place cores that name no particular place.
_GENERIC_CORES = {
    "供暖", "供热", "供气", "热力", "物业服务", "环卫", "城管", "家政", "装修", "快递", "外卖",
    "公交车", "商品房", "经适房", "廉租房", "公租房", "安置房", "工业", "物流", "开发商", "房产", "房屋", "民办", "公办", "私立", "公立",
    "培训", "技术", "职业", "高等", "普惠性", "普惠", "配套", "周围", "所有", "全体", "广大", "临街", "沿街", "街边", "路边",
    "物业", "开发", "地产", "房地产", "有限", "管理", "物业管理", "开发商", "自来水", "电力", "燃气", "供水", "供电", "移动", "联通", "电信",
    "保险", "投资", "建设", "建筑", "工程", "置业", "发展", "科技", "实业", "分公司", "子公司", "总公司", "老", "新", "大", "小", "城乡",
    "农村", "城市", "城镇", "乡村", "这个", "那个", "每个", "整个", "附近", "周边", "公交", "地铁", "铁路", "高速", "道", "马", "公路", "道路",
    "一环", "二环", "三环", "环", "中", "东", "西", "南", "北", "上", "下", "农贸", "菜", "学", "中小", "幼儿", "住宅", "商住", "商品",
    "居民", "业主", "村民", "市民", "群众", "学生", "家长", "老师", "员工", "工人", "我们", "你们", "他们", "国际", "国", "际",
}

STOPWORDS = frozenset("""
反映 投诉 举报 咨询 请问 希望 要求 建议 问题 情况 事情 事件 相关 部门 领导 政府 有关 单位 工作 处理 解决 落实 关注 重视 尽快 及时
帮助 帮忙 谢谢 感谢 您好 你好 尊敬 书记 市长 县长 区长 局长 主任 各位 一下 一直 已经 现在 目前 今年 去年 明年 以来 以后 之前 之后 时候
多次 很多 非常 十分 特别 严重 还是 但是 可是 因为 所以 而且 并且 如果 虽然 然后 同时 其中 这个 那个 这些 那些 这样 那样 什么 怎么 为什么
是否 能否 可以 不能 没有 不是 就是 还有 而是 一个 一些 我们 你们 他们 她们 自己 大家 本人 居民 业主 市民 群众 村民 家长 百姓 老百姓 人员
能够 应该 需要 进行 予以 给予 得到 造成 导致 影响 存在 发现 发生 出现 引起 表示 认为 觉得 知道 告诉 回复 答复 联系 电话 来电 留言 网友
小区 社区 地方 位置 周边 附近 旁边 地区 区域 全市 全区 A市 市民们 不到 不了 不会 不要 不敢 不想 不少 只能 只有 到底 究竟 为何 何时
身份证号 身份证 银行卡号 银行卡 邮箱 手机 手机号 联系电话 联系方式 先生 女士 师傅 阿姨 老师
一年 两年 三年 几年 多年 每天 每次 晚上 白天 平时 经常 长期 今天 昨天 明天 月份 日期 时间 年度 以上 以下 左右 之间 大概 大约 将近
""".split())
_KEEP_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_ADMIN = re.compile(r"(?<![A-Za-z0-9])[A-Z]\d*[区县]")  # the anonymised districts of the board (A3区, A7县); real records name theirs


@dataclass(frozen=True)
class Analysed:
    """One text as the topic stage sees it."""

    places: tuple[str, ...]  # place and organisation keys, most specific first
    words: tuple[str, ...]  # matter words (no places, no stop words), in text order
    district: str | None  # an administrative name the text gives (A3区, 通州区), a coarse place


_TAGGER = rjieba.Jieba()
# Parts of speech that end no name: verbs, adverbs, locatives (情况下), numerals, pronouns, particles, adjectives.
_NOT_NAME_END = ("f", "m", "r", "p", "c", "y", "q", "e", "o", "z", "l", "i", "d")
_COMMON_VERBS = frozenset("""
要求 影响 没有 解决 反映 投诉 进入 导致 造成 位于 存在 出现 发现 建设 开发 管理 破坏 危害 知道 感谢 相信 呼吁 配合 希望 请求 恳请 强烈
严重 彻底 多次 已经 需要 应该 可以 能够 属于 成为 作为 包括 对于 关于 针对 经过 通过 前往 来到 回到 搬到 住在 家住 居住 购买 购房 入住
设立 开办 开设 预留 规划 表示 介绍 拟建 新建 建设 修建 兴建 同一 具备 不具备 组织 立即 打通 赠送 旗下 进出 出入 不顾 科学 合理 积极 推进
""".split())


def _name_like(core: str) -> bool:
    """Whether the characters before a suffix can be a proper name: not a phrase of ordinary words (不知道, 严重影响)."""
    if core in _LEADING_WORDS or core in STOPWORDS or core in _COMMON_VERBS:
        return False
    tagged = _TAGGER.tag(core)
    if len(tagged) == 1 and tagged[0][1] in ("nr", "ns", "nz", "nt", "eng"):
        return True
    last_word, last_tag = tagged[-1]
    if last_word == "里" and len(core) >= 3:
        return True  # 云景里, 芳草里: a Beijing estate's own suffix, not "inside"
    if last_tag.startswith(_NOT_NAME_END) or (last_tag.startswith("u") and len(last_word) >= 2):
        return False
    # The dictionary tags many unknown names as verbs (丽发/v): only a common verb ends no name.
    if last_tag.startswith("v") and (len(last_word) == 1 or last_word in _COMMON_VERBS or last_word in STOPWORDS):
        return False
    return not any(word in _COMMON_VERBS for word, _ in tagged)


def _strip_leading(core: str) -> str:
    changed = True
    while changed and core:
        changed = False
        for word in _LEADING_WORDS:
            if core.startswith(word) and len(core) > len(word):
                core, changed = core[len(word):], True
                break
    return core


_SINGLE_NOT_FOLLOWED = re.compile(r"[市乡管镇民委灯面线费况径程际墙区内外里上口头]")


def place_forms(text: str) -> list[list[str]]:
    """Names ending in a place or organisation suffix (the first pass): for each, its readings from
    the shortest (two characters before the suffix) to the longest the left context allows."""
    found = []
    for match in _SUFFIX_RE.finditer(text):
        start, end, suffix = match.start(), match.end(), match.group(0)
        if len(suffix) == 1 and _SINGLE_NOT_FOLLOWED.match(text, end):
            continue
        left = text[max(0, start - 8):start]
        stop = None
        for stop in _LEFT_STOP.finditer(left):
            pass
        core = _strip_leading(left[stop.end():] if stop else left)
        if len(core) < 2 or core[-2:] in _GENERIC_CORES or not _form_ok(core):
            continue
        found.append([core[-n:] + suffix for n in range(2, len(core) + 1) if _form_ok(core[-n:])])
    return [forms for forms in found if forms]


def _form_ok(core: str) -> bool:
    return core not in _GENERIC_CORES and not _NUMBERED.match(core) and not _NOT_IN_NAME.search(core) and _name_like(core)


def choose_forms(batch: Sequence[list[list[str]]], *, keep: float = 0.5) -> set[str]:
    """The reading of each name that the batch supports: a longer reading is taken while at least
    `keep` of the texts that write the shorter one write it too ("麓谷明珠小区", not "改变麓谷明珠小区")."""
    df: Counter[str] = Counter()
    for forms_of_text in batch:
        df.update({form for forms in forms_of_text for form in forms})
    chosen = set()
    for forms_of_text in batch:
        for forms in forms_of_text:
            best = forms[0]
            for longer in forms[1:]:
                if df[longer] < keep * df[best]:
                    break
                best = longer
            chosen.add(best)
    return chosen


def place_candidates(text: str) -> list[str]:
    """The longest reading of each place name in one text (no corpus to choose by)."""
    return [forms[-1] for forms in place_forms(text)]


def place_key(name: str) -> str:
    """The name without a generic tail (小区, 社区, 有限公司 …), when what is left still names a place."""
    stripped = _GENERIC_TAIL.sub("", name)
    return stripped if len(stripped) >= 3 and stripped not in _GENERIC_CORES and stripped not in STOPWORDS else name


class Analyser:
    """Segmentation, places and matter words for one batch of texts (a report's work orders)."""

    def __init__(self, *, vocabulary: Iterable[str] = (), places: Iterable[str] = ()) -> None:
        self.segmenter = rjieba.Jieba()
        for word in vocabulary:
            if len(word) >= 2:
                self.segmenter.add_word(word, 2000, "n")
        self.places: set[str] = set()
        self.learn_places(places)

    def learn_places(self, names: Iterable[str]) -> None:
        for name in names:
            key = place_key(name)
            for word in {name, key}:
                if word not in self.places and len(word) >= 2:
                    self.places.add(word)
                    self.segmenter.add_word(word, 2000, "ns")

    def learn_from(self, texts: Sequence[str]) -> None:
        """The first pass: the place names this batch writes with their suffixes become words of the segmenter."""
        self.learn_places(choose_forms([place_forms(text) for text in texts]))

    def analyse(self, text: str, *, known_places: Sequence[str] = (), district: str | None = None) -> Analysed:
        """`known_places` and `district`: what the record's own fields say, before what the text names.

        Besides the places found by their suffixes, a proper name the dictionary does not know and the
        real board hardly uses (温斯顿, 富惠天下, 聚利网: companies, brands, platforms) counts as a place:
        complaints about one company are about one matter wherever the citizen lives."""
        words: list[str] = []
        places: list[str] = [place_key(p) for p in known_places if p]
        _, background = background_df()
        for word, tag in self.segmenter.tag(text):
            if word in self.places:
                key = place_key(word)
                if key not in places:
                    places.append(key)
            elif _KEEP_WORD.match(word) and word not in STOPWORDS and "某" not in word:  # 王某某: a masked name, no matter
                words.append(word)
                if (len(word) >= 2 and tag in _ENTITY_TAGS and "某" not in word and background.get(word, 0) <= 15
                        and ENTITY + word not in places):
                    places.append(ENTITY + word)
        admin = _ADMIN.search(text)
        # A longer name contains a shorter one it was found with ("伊景园滨河苑" and "滨河苑"): keep both, longest first;
        # names found by their tag after those found by their suffix.
        places.sort(key=lambda p: (is_entity(p), -len(p)))
        return Analysed(tuple(places), tuple(words), district or (admin.group(0) if admin else None))


_ENTITY_TAGS = frozenset({"nz", "nt", "nrt", "ns", "nr"})


ENTITY = "@"  # marks a proper name found by its tag, not by a place suffix: weaker evidence of one place


def is_coarse(place: str) -> bool:
    return place.endswith(COARSE_SUFFIXES)


def is_entity(place: str) -> bool:
    return place.startswith(ENTITY)


def shown(place: str) -> str:
    return place.removeprefix(ENTITY)


_TITLE_TAGS = ("n", "v", "an", "nz", "ng", "l", "i")
# Words that say how or when, not what: never the matter of a title.
_NOT_A_MATTER = frozenset("很着急 着急 管一管 回电 结果 号楼 单元 缺少 缺乏 存在 启动 剩下 加快 常年 地处 倡导 行动 大力 进入 如期 何时能 具体 每层 后过 特殊 功能 各级 数万 一堆 国家 放在 现任 门口 穿越".split())


def title_words(words: Sequence[str], n: int = 3) -> list[str]:
    """The matter words a title names: nouns and verbal nouns (噪音, 拆迁, 退费), not the verbs and adverbs around them."""
    chosen = [w for w in words if _TAGGER.tag(w)[-1][1].startswith(_TITLE_TAGS) and w not in _COMMON_VERBS and w not in _NOT_A_MATTER
              and not w.endswith(("先生", "女士", "师傅"))]
    return (chosen or list(words))[:n]
