//! Plausible generated names for the schematic city: towns, villages, grid workers.
//! Every character here is in the shipped font subset (tools/font-chars.txt is built
//! from this file among others).

use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;

const FIRST: &[&str] = &[
    "金", "新", "大", "东", "西", "南", "北", "宝", "丁", "谷", "延", "华", "白", "荣", "高", "辛",
    "姚", "上", "下", "长", "平", "永", "丰", "安", "兴", "和", "桃", "柳", "石", "青", "茅", "黄",
    "马", "龙", "凤", "云", "江", "湖", "梅", "竹", "松", "河", "明", "正", "德",
];
const SECOND: &[&str] = &[
    "港", "山", "桥", "庄", "塘", "阳", "陵", "湖", "岗", "口", "埠", "墅", "溪", "河", "城", "林",
    "圩", "洲", "店", "营", "坝", "渡", "泉", "湾", "园", "亭", "门", "峰", "田", "岭",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭",
    "林", "何", "高", "梁", "郑", "罗", "宋", "谢", "唐", "韩", "曹", "许", "邓", "冯",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "辉", "玲", "红",
];

fn pick(rng: &mut SmallRng, from: &[&str]) -> String {
    from.choose(rng).copied().unwrap_or("新").to_string()
}

/// A two-character place stem, e.g. 金港.
pub fn place(rng: &mut SmallRng) -> String {
    pick(rng, FIRST) + &pick(rng, SECOND)
}

/// A person's name, e.g. 李娟 or 王建国.
pub fn person(rng: &mut SmallRng) -> String {
    let mut n = pick(rng, SURNAMES) + &pick(rng, GIVEN);
    if rng.random_bool(0.5) {
        n += &pick(rng, GIVEN);
    }
    n
}
