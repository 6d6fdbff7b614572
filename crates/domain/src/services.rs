//! The city's service catalogue: each category (大类) and its sub-types (小类), with the
//! stable codes other systems use for them (Open311's `service_code`, a CSV's columns).
//! `dispute` is the category, `dispute-01` its first sub-type; codes never change once
//! published, so new sub-types are added at the end of a list.

use protocol::Category;

/// Each category's sub-types, in code order.
pub const SUBTYPES: [(Category, &[&str]); 8] = [
    (
        Category::Dispute,
        &[
            "邻里纠纷",
            "家庭纠纷",
            "劳资纠纷",
            "交通事故纠纷",
            "土地纠纷",
        ],
    ),
    (
        Category::CityManagement,
        &["占道经营", "违章搭建", "垃圾堆放", "噪音扰民", "路灯损坏"],
    ),
    (
        Category::Livelihood,
        &["供水故障", "停电", "物业服务", "社保咨询", "道路破损"],
    ),
    (
        Category::SafetyHazard,
        &["消防通道堵塞", "燃气隐患", "危房", "电动车违规充电"],
    ),
    (
        Category::Environment,
        &["油烟扰民", "污水排放", "秸秆焚烧", "河道污染"],
    ),
    (
        Category::PublicOrder,
        &["可疑人员", "打架斗殴", "盗窃", "噪音滋扰"],
    ),
    (Category::Petition, &["征地拆迁", "欠薪", "安置补偿"]),
    (
        Category::Emergency,
        &["火情", "内涝", "交通事故", "人员被困"],
    ),
];

/// A category's code: its wire name (`city_management`).
pub fn category_code(c: Category) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One service: a category, or one of its sub-types.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Service {
    pub category: Category,
    /// None: the category as a whole.
    pub subtype: Option<&'static str>,
    /// The sub-type's place in its list, from 1 (0 for the category).
    pub number: usize,
}

impl Service {
    pub fn code(&self) -> String {
        match self.subtype {
            None => category_code(self.category),
            Some(_) => format!("{}-{:02}", category_code(self.category), self.number),
        }
    }
}

/// Every service: each category, then its sub-types.
pub fn all() -> Vec<Service> {
    SUBTYPES
        .iter()
        .flat_map(|(c, subs)| {
            std::iter::once(Service {
                category: *c,
                subtype: None,
                number: 0,
            })
            .chain(subs.iter().enumerate().map(|(i, s)| Service {
                category: *c,
                subtype: Some(s),
                number: i + 1,
            }))
        })
        .collect()
}

/// The service a code names, if any.
pub fn by_code(code: &str) -> Option<Service> {
    all().into_iter().find(|s| s.code() == code)
}

/// The service of a ticket's category and sub-type (the category's when the sub-type is
/// not in the catalogue).
pub fn of(category: Category, subtype: &str) -> Service {
    all()
        .into_iter()
        .find(|s| s.category == category && s.subtype == Some(subtype))
        .unwrap_or(Service {
            category,
            subtype: None,
            number: 0,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_and_names_its_service_back() {
        let all = all();
        assert_eq!(all.len(), 8 + 34);
        let codes: std::collections::HashSet<String> = all.iter().map(|s| s.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(
            by_code("dispute-01").and_then(|s| s.subtype),
            Some("邻里纠纷")
        );
        assert_eq!(
            by_code("city_management").map(|s| s.category),
            Some(Category::CityManagement)
        );
        assert_eq!(of(Category::Dispute, "家庭纠纷").code(), "dispute-02");
        assert_eq!(of(Category::Dispute, "别的").code(), "dispute");
        assert!(by_code("dispute-99").is_none() && by_code("").is_none());
    }

    #[test]
    fn interfaces_md_lists_every_code_with_its_name() {
        let doc = include_str!("../../../INTERFACES.md");
        for s in all() {
            let name = s.subtype.unwrap_or(s.category.zh());
            let row = format!("| `{}` | {name}", s.code());
            assert!(doc.contains(&row), "INTERFACES.md lacks the row {row:?}");
        }
    }
}
