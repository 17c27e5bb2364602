"""Find and mask citizens' personal data before anything leaves the gateway.

Phone numbers keep their first three and last four digits (138****0000), the
way Chinese offices publish them; ID-card numbers (checksum verified), card and
account numbers of 16–19 digits (whatever their checksum, unless a platform's
number word such as 订单号 stands before them) and e-mail addresses are replaced;
licence plates keep province, city letter and last character (京A****5); a home's
building, unit and room are masked, the estate kept; full names become surname +
某某 (from the caller field, from rjieba's person-name tags, and from cues: 我叫…,
市民…女士, 反映人…, 工作人员…, a relative, a signature, what follows: …反映, …等居民; the others of a list:
、 和 与 及); a name the citizen already left out (王某, 李某某) is kept as written; a staff member named by
surname and title (工作人员王老师) keeps only the title (工作人员某老师). A bare
"王先生/李女士" names nobody and is kept. `luhn_valid` is no longer used by the masker; the test
data uses it to make valid and invalid card numbers.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

import rjieba


_TAGGER: Callable[[str], list[tuple[str, str]]] = rjieba.tag  # Rust jieba: part-of-speech tags, its model inside the package

_HAN = r"[\u4e00-\u9fff]"
_STOP = r"(?=[，,。.；;：:、\s（(）)]|是|住|家住|在|电话|手机|联系|今年|反映|来电|的|$)"

_SEP = r"[-\s.－—]?"  # how citizens split a number: 138-1234-5678, 138 1234 5678, 177.6061.0603, 010－62345678
# 11 digits however grouped (138 0013 8000, 1668 478 1894, 131  9457  0737), after +86, 0086 or 86- or not.
MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[-\s]{0,2})?(1[3-9][0-9](?:[-\s.－—]{0,2}[0-9]){8})(?![0-9])")
# An area code and 7 or 8 digits, however grouped (010-6234-5678, (010)62345678, 0730-5450-029): all but the last four masked.
LANDLINE = re.compile(r"(?<![0-9])[(（]?(0[1-9][0-9]{1,2})[)）]?[-\s－—]?((?:[0-9][-\s－—]?){3,4})((?:[0-9][-\s－—]?){3}[0-9])(?![0-9])")
# A local number without its area code, where a phone word says it is one (家里电话5426330, 区号0571，号码57452457).
LOCAL_PHONE = re.compile(r"((?:电话|座机|固话|号码|宅电|拨打|可打|请打|致电)(?:号码)?(?:是|为)?[:：\s]*)([2-9][0-9]{2,3})[-\s]?([0-9]{4})(?![0-9])")
# WeChat and QQ: 微信号 abc123, vx：…, wxid_…, QQ 12345678, 扣扣…
WECHAT = re.compile(r"((?:微信号?|[vV][xX]|[wW][xX]|weixin|WeChat|wechat)(?:号|号码)?(?:是|为)?[:：\s]*)([A-Za-z][-_A-Za-z0-9]{5,19}|1[3-9][0-9]{9})(?![-_A-Za-z0-9])|wxid_[A-Za-z0-9]{4,}")
QQ = re.compile(r"((?:[Qq]{2}|扣扣|Q号)(?:号|号码)?(?:是|为)?[:：\s]*)([1-9][0-9]{4,11})(?![0-9])")
ID_CARD = re.compile(r"(?<![0-9])[1-9][0-9]{5}\s?(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])\s?[0-9]{3}[0-9Xx](?![0-9A-Za-z])")
# 16 to 19 digits, in groups or not: a bank card or an account, whether or not it passes Luhn (an account number need not).
BANK_CARD = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){15,18}(?![0-9])")
_LONG_NUMBER = re.compile(r"[0-9](?:[-\s.－—()（）]{0,2}[0-9]){6}")  # seven digits or more, however split: a phone, an ID, a card
_HOME_WORD = re.compile(r"[0-9A-Za-z](?:栋|幢|号楼|座)|[0-9]-[0-9]{1,2}-[0-9]|组[0-9]")
# A long number after 订单号, 受理号, 工单编号 … is the platform's, not a person's.
_NOT_AN_ACCOUNT = re.compile(r"(?:订单|受理|工单|流水|快递|运单|单据|编|案件|批次|合同|发票)号?[:：\s]*$")
# A home: building, unit and room (云景里小区12号楼1单元103室); the estate's name stays, topics need it. A stairwell (5栋2单元楼道) is a place.
HOME = re.compile(r"(?<![0-9A-Za-z])([0-9]{1,3}|[A-Za-z])(栋|幢|号楼|座)(?:(?:([0-9]{1,2}|[一二三四五六七八九十])(?:单元|门))?([0-9]{3,4})(室|号|房)?)(?![0-9])")
# 25-3-3302 (building, unit, room), a village home (七里组50号).
HOME_DASHED = re.compile(r"(?<![0-9\-])([0-9]{1,3})-([0-9]{1,2})-([0-9]{3,4})(?![0-9\-])")
VILLAGE_HOME = re.compile(r"(" + _HAN + r"{1,4}组)([0-9]{1,4})号")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 京A·12345, 沪B8K9X2, 粤BD12345 (new energy), 京A1234学
PLATE = re.compile(r"(?<![A-Za-z0-9])([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-HJ-NP-Z])[·•.\s-]?([A-HJ-NP-Z0-9]{4,5})([A-HJ-NP-Z0-9挂学警港澳])(?![A-Za-z0-9])")
_PHONE_AHEAD = r"(?=(?:先生|女士)[，,:：\s]*(?:的)?(?:电话|手机|联系电话|联系方式)?(?:是|为)?[:：\s]*(?:\+?86[- ]?)?(?:1[3-9][0-9]|0[1-9][0-9]{1,2}))"
_WHO = r"(?:市民|居民|业主|村民|住户|家长|反映人|投诉人|来电人|当事人|联系人|承办人|经办人|负责人|工作人员|社区工作人员|网格员|民警|医生|护士|物业的|街道的|社区的|村里的)"
_KIN = r"(?:父亲|母亲|爸爸|妈妈|儿子|女儿|爱人|丈夫|妻子|老公|老婆|孩子|爷爷|奶奶|外公|外婆|哥哥|姐姐|弟弟|妹妹|岳父|岳母|公公|婆婆)"
_KIN_WORD = re.compile(_KIN)
# A name right after who the person is (市民蔡丽华女士称, 反映人：肖佳斌, 工作人员刘春电话…, 我父亲卢永琴今年…).
_NAME_AFTER_WHO = re.compile(rf"(?:{_WHO}|{_KIN})[:：\s]*({_HAN}{{2,3}}?)(?=女士|先生|同志|称|说|反映|电话|手机|联系|今年|上门|身体|至今|答应|回复|告诉|在|，|,|。|：|:|（|\(|\s|$)")
# A letter's signature: the last words after 此致敬礼 or a dash.
_SIGNATURE = re.compile(rf"(?:(?:此致敬礼[!！。]?|——|—|签名[:：]?)\s*({_HAN}{{2,3}})\s*[。!！]?$|[。！!，,]\s*({_HAN}{{2,3}}?)(?:敬上|谨上|敬启)[。!！]?$)")
_NAME_BEFORE_TITLE = re.compile(
    rf"(?:(?<=[，,。；;：:\s（(])|(?<=联系人)|(?<=来电人)|(?<=反映人)|(?<=市民)|(?<=居民)|(?<=业主)|(?<=请)|(?<=找)|(?<=联系)|^)({_HAN}{{2,3}}){_PHONE_AHEAD}"
)
# A staff member named by surname and title after who they are (工作人员王老师, 网格员李大姐, 民警张警官): the surname goes.
_STAFF_BY_TITLE = re.compile(
    r"((?:社区|街道|村委会?|物业|居委会)?(?:工作人员|网格员|民警|片警|社工|经办人|承办人|客服|专管员|执法人员|城管队员|物业)[:：\s]*)"
    rf"({_HAN})(?=老师|师傅|主任|经理|书记|科长|警官|队长|站长|所长|处长|部长|组长|阿姨|大姐|大哥)"
)
NAME_CUES = [
    re.compile(rf"(?:我叫|本人叫|我是|本人|姓名[:：]?\s*|联系人[:：]?\s*|来电人[:：]?\s*)({_HAN}{{2,3}}?){_STOP}"),
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Words that follow 我是/本人 but are not names.
_NOT_NAMES = {"业主", "居民", "村民", "租户", "市民", "家长", "学生", "老人", "司机", "员工", "患者", "退休", "本地", "外地", "这里", "小区"}


def id_card_valid(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_name(name: str) -> str:
    name = name.strip()
    if not name:
        return name
    if re.fullmatch(rf"{_HAN}(?:先生|女士|师傅|阿姨|大爷|老师)", name):
        return name
    if name[:2] in COMPOUND_SURNAMES and len(name) > 2:
        return name[:2] + "某某"
    return name[0] + "某某" if re.match(_HAN, name) else name[0] + "***"


# Common surnames (the first character of a name the lexical analyser or a cue proposes).
SURNAMES = set("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范廖"
               "贾夏韦付方邹孟熊秦邱尹薛段雷侯龙陶黎贺顾毛郝龚邵万覃武戴孔向汤易常温康施文牛樊葛邢安齐伍庞颜倪聂章鲁岳翟殷詹申欧耿关兰焦"
               "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪"
               "简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池乔"
               "晋白严史金于石钱叶洪江阎汪谈蔚丰霍宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓"
               "牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴胥能苍"
               "双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍却璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都"
               "耿满弘匡国文寇广禄阙东殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相查后荆红游竺权逯盖益桓公")
# Less common ones that the list above lacks (闫, 庹, 阚, 粟 …); characters that are mostly function words (来, 要, 由 …) are left out.
SURNAMES |= set("莫闫庹阚揭綦粟栾鄢谌湛佘訾厍晏濮逯滕蔺仝冼覃笪亓酆郄邝苑禹昝郇靖嵇邸宓郜迟鞠练伏荆檀仉邰郦茅糜蒯缑索逄麻矫战冀雒奚韶植巨钮郗佴尧岑侍粘阎凤揭")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "司徒", "端木", "宇文", "长孙",
                     "西门", "南宫", "独孤", "呼延", "闻人", "澹台", "申屠", "轩辕", "百里", "万俟")
# Endings that make a word a place or an organisation, not a person (张家湾, 马王堆, 王府井, 李桥镇, 黄兴路 …).
_PLACE_END = set("湾堆井路街桥镇村庄园坡岭堡口河湖山港门塘屯坎冲巷店区县乡城里营坊寺楼厂站场院府湖洲岛滩坝沟峪垸台亭阁苑坪家渡浦汇祠")
# Words the analyser may tag as a name that are everyday words (谢谢, 阳光, 蓝天, 张贴 …): besides this list, any word in
# three or more messages of the real board (gateway/defaults/word_df.json) is a word, not somebody's name.
_EVERYDAY = {"谢谢", "阳光", "蓝天", "张贴", "许可", "高兴", "江湖", "金牌", "黄金", "白天", "黎明", "常年", "方便", "安全", "万一", "高危", "高速", "高新"}
_PLACE_NEXT = ("镇", "村", "乡", "街", "路", "区", "县", "小区", "社区", "大街", "大桥", "公园", "广场", "政府", "街道", "站", "湾", "的居民",
               "的业主", "的村民", "公司", "集团", "医院", "学校", "小学", "中学", "大学", "银行", "派出所", "花园", "家园", "商场")
_TITLE_END = ("先生", "女士", "师傅", "阿姨", "大爷", "老师", "经理", "主任", "书记", "局长", "科长", "处长", "站长", "所长", "院长", "校长",
              "医生", "警官", "律师", "会计", "老板", "同志", "总")


# Surnames that are far more often a word of their own (向领导, 都在, 曾多次, 和居民, 越建越大): a name read without a cue
# that begins with one must have three characters.
_FUNCTION_SURNAMES = set("向和都曾越于从将把被给对让为与及同也就还又才但而且或确车安卫商师无")


def _person_like(word: str, after: str, *, acting: bool = False) -> bool:
    """Could `word` (followed by `after`) be a person's full name? A surname first, no place ending, nothing place-like next.

    `acting`: what follows is what only a person does (反映, 等居民), and the analyser read a name here: then a rare name
    in jieba's dictionary is one too (_a_word).
    """
    if not 2 <= len(word) <= 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
        return False
    if word[0] in _FUNCTION_SURNAMES and (len(word) < 3 or _common_word(word[1:3])):
        return False  # 都需要, 和居民
    if not (word[0] in SURNAMES or word[:2] in COMPOUND_SURNAMES) or word in _NOT_NAMES:
        return False
    if word[-1] in _PLACE_END or word.endswith(_TITLE_END) or after.startswith(_PLACE_NEXT) or (after[:1] and after[0] in _PLACE_END):
        return False
    return word not in _EVERYDAY and not _a_word(word, cued=False, acting=acting)


def _plausible(word: str, after: str) -> bool:
    """A name a cue points at (反映人X, 我是X, X阿姨, a signature): like a person's, and no common word of the language."""
    if not 2 <= len(word) <= 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in word) or word in _NOT_NAMES:
        return False
    if not (word[0] in SURNAMES or word[:2] in COMPOUND_SURNAMES) or word in _EVERYDAY or any(word.startswith(w) for w in _NOT_NAMES):
        return False
    if word[0] in _FUNCTION_SURNAMES and (word[1] in _NOT_IN_A_NAME or _common_word(word[1:3])):
        return False  # 爱人都是外地, 从一年级
    if word[-1] in _STRONG_PLACE_END or word.endswith(_TITLE_END) or after.startswith(_PLACE_NEXT):
        return False
    return not _a_word(word, cued=True)


def _a_word(word: str, *, cued: bool, acting: bool = False) -> bool:
    """A word of the language by jieba's dictionary, not a name. Its `nr` tag is loose (李子 348, 周转 899, 阳光 3,451 are
    nr): after a cue a rare nr word is a name (侯少华 2, 李四 106) and another word only from frequency 50.

    Without a cue any word of the dictionary is one (于相, 那么我 are not names), unless it is a rare nr word of three
    characters or more followed by what a person does (`acting`): the dictionary lists common names too (王建国 12,
    刘德华 37), and 王建国反映, 王建国等居民 are people."""
    found = _lexicon().get(word)
    if found is None:
        return False
    freq, tag = found
    rare_name = tag.startswith("nr") and freq < _RARE_NAME
    if not cued:
        # 段时间一直: a surname character before an everyday word (时间) is no name, whatever the dictionary's tag.
        return not (acting and len(word) >= 3 and rare_name and word[-1] not in _OCCUPATION_END and not _common_word(word[1:3]))
    return not rare_name and freq >= _COMMON_WORD


_RARE_NAME = 300  # an nr word of jieba's dictionary below this frequency is a name (侯少华 2, 李四 106, 王建国 12), not a word
# The dictionary tags some trades nr too (钟点工 16), and a trade is often what speaks (钟点工说, 保洁员反映).
_OCCUPATION_END = set("工员师匠手夫卫人")  # and who someone is in a case: 申请人 (nr 128)


# After a cue a name may well end in 山, 林, 河, 园 … (方金山): only endings no given name has count there.
_STRONG_PLACE_END = set("湾堆井路街桥镇村庄乡县区城营寺厂站场院府岛滩坝沟峪垸苑渡浦汇祠家")


_NAME_LIKE_TAGS = ("nr", "nz", "ns")  # jieba tags of words that are also given names (金山 nr, 振华 nz, 建国 ns)


def _common_word(word: str) -> bool:
    """A frequent word of the language that is not name-like (居民, 多次, 领导, 不知): what follows 和 in 和居民 is no given name."""
    freq, tag = _two_character_words().get(word, (0, ""))
    return freq >= 500 and not tag.startswith(_NAME_LIKE_TAGS)


def _two_character_words() -> dict[str, tuple[int, str]]:
    """jieba's dictionary words of two characters with their frequencies and tags."""
    return _dictionary()[1]


_COMMON_WORD = 50  # jieba's dictionary frequency from which a word is an everyday one (张贴 …), even after a cue


def _lexicon() -> dict[str, tuple[int, str]]:
    """Words of jieba's dictionary (349,045 words with frequencies, shipped in its package) that begin with a surname.

    A candidate that is a word of the language (李子, 周转, 白银, 陈家祠, 张冠李戴) is no name; a real person's name is
    almost never one.
    """
    return _dictionary()[0]


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, tuple[int, str]], dict[str, tuple[int, str]]]:
    """jieba's dict.txt read once (~0.6 s; only its data file, not its slow segmenter): the words of 2–4 characters
    that begin with a surname, and every word of two characters, each with its frequency and tag."""
    surname_words: dict[str, tuple[int, str]] = {}
    two_characters: dict[str, tuple[int, str]] = {}
    with (resources.files("jieba") / "dict.txt").open(encoding="utf-8") as handle:
        for line in handle:
            word, freq, tag = line.split(" ", 2)
            if not 2 <= len(word) <= 4:
                continue
            entry = (int(freq), tag.strip())
            if len(word) == 2:
                two_characters[word] = entry
            if word[0] in SURNAMES or word[:2] in COMPOUND_SURNAMES:
                surname_words[word] = entry
    return surname_words, two_characters


_ACTS = ("反映", "说", "称", "表示", "今年", "上门", "电话", "联系", "答应", "告诉", "要求", "回复", "投诉", "来电", "打电话", "同志", "女士", "先生",
         "至今", "身体", "敬上", "多次", "一直", "曾经", "现年", "于20", "于19", "向", "找", "和我", "等人", "捏造", "殴打", "拿走", "携",
         "一家", "夫妇", "，男", "，女", "证明")
_SPEAKS = ("反映", "表示", "称", "来电", "致电", "投诉", "举报", "诉求")  # what only a person does, right after the name
_ACTED_ON = ("跟", "告诉", "殴打", "此事", "其兄", "其弟", "其父", "其母", "其妻", "其夫")
# What a person does, right after their name wherever it stands (钱尚武至今未退还, 后来秦志强又打了, 这件事粟桂兰最清楚).
# A person and the others with them: 王建国等居民, 张秀英等三户居民, 李桂兰等人.
_WITH_OTHERS = r"等(?:[0-9一二三四五六七八九十几多数百]+(?:户|人|名|位|家))?(?:居民|业主|邻居|村民|住户|群众|家长|商户|职工|老人|人|户)"
_WITH_OTHERS_AHEAD = re.compile(_WITH_OTHERS)
_PERSON_ACTS = re.compile(r"多次|至今|一直|又打|也被|最清楚|去年就|能拿到|认为|陈述|亲口|捏造|殴打|拿走|携|先后|还将|的孩子|的房子"
                          r"|说(?![明法服])|称(?![号为谓赞])|反映|表示|告诉|答复|回复|承诺|要求|来电|致电|投诉(?!人)|举报(?!人)|询问|" + _WITH_OTHERS)
_NAME_TAGS = ("nr", "nrt", "nz")  # person names, transliterated names, other proper names (谭超彬 is tagged nz)


def _tagged_names(text: str) -> set[str]:
    """Person names (nr) as the lexical analyser reads the text, where they look like a person's name and not a place's."""
    found = set()
    start = 0
    for word, flag in [(w, flag) for w, flag in _TAGGER(text) if flag in _NAME_TAGS]:  # the comprehension keeps the per-token loop out of Python bytecode
        at = text.find(word, start)
        start = at + len(word)
        after = text[start:start + 4]
        # A two-character "name" is as often an everyday word (周转, 白银) or an estate's (金晖), and an nz anything proper:
        # only with what people do after it.
        before = text[max(0, at - 2):at]
        if len(word) == 3 and (word[-1] in _NOT_IN_A_NAME or word[0] in _FUNCTION_SURNAMES):
            continue  # the analyser's guesses 彭浦到, 越建越, 商转公
        with_others = _WITH_OTHERS_AHEAD.match(text, start) is not None
        acting = after.startswith(_ACTS) or before.endswith(_ACTED_ON) or with_others
        # A dictionary word the analyser reads as a name here counts as one only before what a citizen does (王建国反映);
        # the dictionary's nr tag alone is loose (申请人 128, 桂花树 29, 温斯顿 11 are nr, and are followed by 至今, 认为 …).
        speaks = with_others or after.startswith(_SPEAKS)
        if _person_like(word, after, acting=speaks) and ((len(word) > 2 and flag != "nz") or acting):
            found.add(word)
    return found


# Who a person is, right before their name: 反映人肖德华表示, 诉求人：粟玉兰；, 我是退休职工苏定邦, 邻居X, 鄙人X …
_CUE = re.compile(
    r"(?:反映人|诉求人|举报人|投诉人|来电人|当事人|联系人|对接人|经办人|承办人|负责人|申请人|填报人|户主姓名|户主|真实姓名|姓名|署名|落款|签名"
    r"|鄙人|本人|我叫|叫|我是(?:退休职工|退休教师|一名业主|一名居民|一名|业主|居民|村民|租户)?|邻居|隔壁(?:的)?|对门(?:的)?|楼上(?:的)?"
    r"|楼下(?:的)?|同村(?:的)?|业主|住户|租户|村民|市民|居民|网格员|社区主任|工作人员|民警|城管队员|办事员|物业经理|客服|老伴|爱人"
    r"|孤寡老人|老人|和我|咨询人|诉求人|(?:居委会|社区|街道|物业|村委会|村里|派出所|公司|单位)的)(?:[:：\s】]|[(（][^)）]{0,6}[)）])*"
)
_WEAK_CUES = {"业主", "住户", "租户", "村民", "市民", "居民", "老人", "和我", "叫", "本人", "客服", "爱人", "老伴", "邻居"}
# What stands after a full name: a title, a sex and age in brackets (张丽华阿姨, 周淑珍经理, 郑俊（女）, 林凯，男，现年72岁).
_AFTER_NAME = re.compile(r"大爷|阿姨|奶奶|爷爷|师傅|大姐|大妈|科长|局长|处长|主任|书记|镇长|经理|所长|站长|队长|老师|医生|先生|女士|同志|"
                         r"[（(][男女]|[，,][男女][，,]")
# A letter's last words: a name after a dash, a line break, 此致敬礼 or 谢谢, maybe with a date.
_SIGNED = re.compile(
    r"(?:——|—|\n|此致\s*敬礼[!！]?|谢谢[!！。]?|[。！!？?；;])\s*(?:落款|署名)?[:：]?\s*(" + _HAN + r"{2,4})\s*(?:敬上|谨上|敬启)?\s*"
    r"(?:\d{4}\s*[年.\-/]\s*\d{1,2}\s*(?:月|[.\-/])?\s*(?:\d{1,2}\s*日?)?|\d{1,2}月\d{1,2}日)?\s*[。!！]?\s*$"
)


def _name_at(text: str, at: int) -> str | None:
    """The person's name that begins at `at` (a surname there), as long as the segmenter reads it: 2 to 4 characters."""
    surname = 2 if text[at:at + 2] in COMPOUND_SURNAMES else 1 if text[at:at + 1] in SURNAMES else 0
    if not surname:
        return None
    words = rjieba.cut(text[at:at + surname + 4])
    first = words[0]
    if len(first) == surname and len(words) > 1 and 1 <= len(words[1]) <= 2:
        if _common_word(words[1]) or words[1] in _NOT_IN_A_NAME:
            return None  # 和|居民, 曾|多次, 车|无处
        name = first + words[1]
    elif surname < len(first) <= surname + 2:
        name = first
        if (len(first) == surname + 1 and len(words) > 1 and len(words[1]) == 1 and "\u4e00" <= words[1] <= "\u9fff"
                and words[1] not in _NOT_IN_A_NAME and not _a_word(first, cued=True)):
            name += words[1]  # 苏定|邦: the segmenter split the given name
    else:
        name = text[at:at + surname + 2]
        if name[-1] in _NOT_IN_A_NAME:
            name = name[:-1]
    if len(name) <= surname:
        return None  # 本人于 at the end of a text: a surname alone, or nothing left of it
    if name[-1] in _NOT_IN_A_NAME:
        name = name[:-1]  # 王说: a surname and what it did
        if name[-1] in _NEGATIONS:
            return None  # 管不了, 管没管: a verb and its negation
    if name[0] in _FUNCTION_SURNAMES and _common_word(name[1:3]):
        return None  # 曾多次
    return name if len(name) > surname and all("\u4e00" <= ch <= "\u9fff" for ch in name) else None


def _name_before(text: str, end: int) -> str | None:
    """The full name that ends at `end` (before a title: 周淑珍经理), or None for a surname alone (王先生)."""
    words = rjieba.cut(text[max(0, end - 6):end])
    if not words:
        return None
    last = words[-1]
    if (len(last) <= 2 and len(words) > 1 and (words[-2] in SURNAMES or words[-2] in COMPOUND_SURNAMES)
            and words[-2] not in _FUNCTION_SURNAMES and not _common_word(last)):
        last = words[-2] + last  # 何|爱民, 周|淑珍; not 向|领导
    elif (len(last) == 1 and last not in _NOT_IN_A_NAME and last not in "我你他她它们" and len(words) > 1 and len(words[-2]) == 2
          and words[-2][0] in SURNAMES and words[-2][0] not in _FUNCTION_SURNAMES and words[-2] not in _lexicon()):
        last = words[-2] + last  # 莫雨|萱
    if len(last) < 2:
        return None
    starts = (end - len(last), end - len(last) + 1) if text[end - len(last)] in "的了是和与跟对向被把给让在从" else (end - len(last),)
    for start in starts:  # "的姜斌" read as one word
        name = text[start:end]
        if len(name) >= 2 and (name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES):
            if name[-1] in _NOT_IN_A_NAME or (start > 0 and _common_word(text[start - 1] + name[0])):
                return None  # 段确一直; 消费者说 (消费 is a word: 费者 is no name)
            return name
    return None


def _cued_names(text: str) -> set[str]:
    found = set()
    for match in _CUE.finditer(text):
        name = _name_at(text, match.end())
        if not name or not _plausible(name, text[match.end() + len(name):match.end() + len(name) + 4]):
            continue
        # 业主, 居民, 叫 … are as often followed by what they do (业主关水限电): there the analyser must read a name too.
        weak = match.group().rstrip(":： 】") in _WEAK_CUES
        if weak and (name[0] in _FUNCTION_SURNAMES or not _TAGGER(text[match.end():match.end() + 6])[0][1].startswith("nr")):
            continue
        found.add(name)
    for match in _AFTER_NAME.finditer(text):
        name = _name_before(text, match.start())
        if name and _plausible(name, ""):  # a title (镇长) is not the place word it begins with
            found.add(name)
    for match in _PERSON_ACTS.finditer(text):
        name = _name_before(text, match.start())
        if name and _person_like(name, match.group()):
            found.add(name)
    signed = _SIGNED.search(text)
    if signed:
        name = _name_at(text, signed.start(1))
        if name and _plausible(name, ""):
            found.add(name)
    return found


# A relative's name right after who they are (我爱人曾海德…, 我父亲卢永琴…), whatever follows it.
_KIN_NAME = re.compile(rf"(?:我|我的|本人|其|和|与)?{_KIN}[:：\s]*({_HAN}{{2,3}})")
_NOT_IN_A_NAME = set("在是的了和与也都就还说今年去到从被把给对向已于及等确不没")
_NEGATIONS = set("不没")


def _kin_names(text: str) -> set[str]:
    found = set()
    for match in _KIN_NAME.finditer(text):
        name = match.group(1)
        if name[-1] in _NOT_IN_A_NAME:
            name = name[:-1]
        if _plausible(name, text[match.start(1) + len(name):match.start(1) + len(name) + 4]):  # the relative is the cue
            found.add(name)
    return found


def _names_in(text: str) -> set[str]:
    found = {m.group(1) for m in _NAME_BEFORE_TITLE.finditer(text)} if ("先生" in text or "女士" in text) else set()
    for cue in NAME_CUES:
        for match in cue.finditer(text):
            name = match.group(1)
            if name not in _NOT_NAMES and not any(name.startswith(w) for w in _NOT_NAMES) and _person_like(name, text[match.end(1):match.end(1) + 4]):
                found.add(name)
    for pattern in (_NAME_AFTER_WHO, _SIGNATURE):
        for match in pattern.finditer(text):
            group = next(g for g in range(1, (match.lastindex or 1) + 1) if match.group(g))
            if _person_like(match.group(group), text[match.end(group):match.end(group) + 4]):
                found.add(match.group(group))
    if _KIN_WORD.search(text):
        found |= _kin_names(text)
    found |= _cued_names(text) | _tagged_names(text)
    return _listed_with(text, found) if found and any(join in text for join in _LIST_JOINS) else found


_LIST_JOINS = "、和与及"


def _listed_with(text: str, found: set[str]) -> set[str]:
    """Names listed with a name found (刘楠、林雨果、李玉等人; 股东何俊、何绢、栗永): the others in the list are people too.

    和, 与 and 及 join a list too (刘德华和王建国等邻居), but a name read forwards from one of them counts only where
    no word follows it at once: it may have taken that word's first character (徐萍和何绢却在 reads 何绢却, 李某某及郑某均
    reads 郑某均).
    """
    found = set(found)
    todo = list(found)
    while todo:
        name = todo.pop()
        for at in [m.start() for m in re.finditer(re.escape(name), text)]:
            neighbours = []
            join = text[at + len(name):at + len(name) + 1]
            if join and join in _LIST_JOINS:
                after = _name_at(text, at + len(name) + 1)
                if after and (join == "、" or not re.match(_HAN, text[at + len(name) + 1 + len(after):][:1] or "。")):
                    neighbours.append(after)  # after 和: only a name that ends where the words do (肖某某与何梅咏（…）)
            if at > 0 and text[at - 1] in _LIST_JOINS:
                neighbours.append(_name_before(text, at - 1))
            for other in neighbours:
                if other and other not in found and _plausible(other, ""):
                    found.add(other)
                    todo.append(other)
    return found


_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")
_FULL_WIDTH_DIGIT = re.compile("[０-９]")


def _mobile(m: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", m.group(1))
    return f"{digits[:3]}****{digits[-4:]}"


def _landline(m: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", m.group(2) + m.group(3))
    if len(digits) not in (7, 8):
        return m.group(0)
    return f"{m.group(1)}-****{digits[-4:]}"


def _bare(name: str) -> str:
    """The caller field as a name: 李振先生, 李振（先生）, 李振 女士 → 李振."""
    name = re.sub(r"[（(][^)）]*[)）]", "", name).strip()
    return re.sub(r"\s*(?:先生|女士|同志|小姐|老师|师傅|阿姨|大爷)$", "", name).strip()


def mask_text(text: str, names: Iterable[str | None] = ()) -> str:
    """Mask every kind of personal data this module knows in `text`."""
    if not text:
        return text
    if _FULL_WIDTH_DIGIT.search(text) and _LONG_NUMBER.search(text.translate(_FULL_WIDTH)):
        text = text.translate(_FULL_WIDTH)  # １３８… and ＋８６ as the number patterns read them
    # Each pattern only where it can match (most complaints hold no long number, no @, no room): the masker runs on every text.
    if _LONG_NUMBER.search(text):
        text = ID_CARD.sub(lambda m: "[身份证号]" if id_card_valid(re.sub(r"\s", "", m.group(0))) else m.group(0), text)
        text = BANK_CARD.sub(lambda m: m.group(0) if _NOT_AN_ACCOUNT.search(text[max(0, m.start() - 8):m.start()]) else "[银行卡号]", text)
        text = MOBILE.sub(_mobile, text)
        text = LANDLINE.sub(_landline, text)
        text = LOCAL_PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    if "@" in text:
        text = EMAIL.sub("[邮箱]", text)
    text = PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}{'*' * len(m.group(3))}{m.group(4)}", text)
    if _HOME_WORD.search(text):
        text = HOME.sub(lambda m: f"*{m.group(2)}" + ("*单元" if m.group(3) else "") + "*" + (m.group(5) or ""), text)
        text = HOME_DASHED.sub("*-*-*", text)
        text = VILLAGE_HOME.sub(lambda m: f"{m.group(1)}*号", text)
    if "微" in text or "x" in text.lower() or "Q" in text.upper() or "扣扣" in text:
        text = WECHAT.sub(lambda m: (m.group(1) or "") + "[微信号]", text)
        text = QQ.sub(lambda m: m.group(1) + "[QQ号]", text)
    text = _STAFF_BY_TITLE.sub(lambda m: m.group(1) + ("某" if m.group(2) in SURNAMES else m.group(2)), text)
    all_names = {n for n in (_bare(name) for name in names if name) if len(n) >= 2} | _names_in(text)
    for name in sorted(all_names, key=len, reverse=True):
        if "某" in name[1:]:
            continue  # 王某, 李某某, 廖某(签字): the citizen left the name out already
        masked = mask_name(name)
        if masked != name:
            text = text.replace(name, masked)
    return text


def citizen_key(phone: str | None, secret: bytes) -> str | None:
    """A keyed hash of the caller's phone: counts distinct citizens without keeping numbers."""
    if not phone:
        return None
    digits = re.sub(r"[^0-9]", "", phone)[-11:]
    return hmac.new(secret, digits.encode(), hashlib.sha256).hexdigest()[:32] if digits else None
