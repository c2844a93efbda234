package jp.mamori.demo;

import java.util.Random;

/** SOAP text for synthetic progress notes, in the terse clinical Japanese of a real chart. */
final class Notes {
    private Notes() {
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }

    /** S, O, A and P for a visit to {@code department}. */
    static String[] soap(String department, Random r) {
        int sbp = 112 + r.nextInt(40);
        int dbp = 64 + r.nextInt(24);
        int pulse = 60 + r.nextInt(30);
        String temp = String.format(java.util.Locale.ROOT, "%.1f", 36.0 + r.nextInt(12) / 10.0);
        String vitals = "BP " + sbp + "/" + dbp + " mmHg、P " + pulse + "/分 整、BT " + temp + "℃。";
        int weeks = 2 + 2 * r.nextInt(4);
        return switch (department) {
            case "内科" -> new String[]{
                    pick(r, "特に変わりなし。食事療法は継続できている。", "最近間食が増えたとのこと。口渇・多尿なし。",
                            "夜間頻尿1回。自覚症状なし。", "先週から軽い咳嗽あり。発熱なし。"),
                    vitals + pick(r, "HbA1c 7.0%（前回7.3%）。", "空腹時血糖 128 mg/dL。", "胸部聴診異常なし。下腿浮腫なし。"),
                    pick(r, "2型糖尿病：コントロールはやや改善。", "高血圧症：家庭血圧も含め概ね良好。",
                            "2型糖尿病・高血圧症：現行治療で安定。"),
                    "現行処方継続。食事・運動療法の継続を指導。" + weeks + "週後再診、次回採血。"};
            case "外科" -> new String[]{
                    pick(r, "術後の創部痛は軽減。", "右鼠径部の膨隆が立位で目立つ。", "食後の右季肋部痛が時々ある。"),
                    vitals + pick(r, "創部に発赤・腫脹なし。", "右鼠径部に還納可能な膨隆を触知。", "腹部平坦・軟、Murphy徴候陰性。"),
                    pick(r, "術後経過良好。", "右鼠径ヘルニア。", "胆石症、症状は軽度。"),
                    pick(r, "抜糸済み。", "手術について説明し、同意書を渡した。", "腹部超音波を予約。") + weeks + "週後再診。"};
            case "小児科" -> new String[]{
                    pick(r, "母より：夜間の咳が続いている。", "母より：発疹のかゆみが強い。", "母より：食欲あり、元気。"),
                    "BT " + temp + "℃、SpO2 98%。" + pick(r, "呼気時に軽度wheezeあり。", "肘窩・膝窩に湿疹。", "咽頭発赤なし。"),
                    pick(r, "気管支喘息、軽症持続型。", "アトピー性皮膚炎、中等症。", "経過良好。"),
                    pick(r, "吸入指導を再度実施。", "保湿剤の使い方を説明。", "現行治療継続。") + weeks + "週後再診。"};
            case "整形外科" -> new String[]{
                    pick(r, "歩行時の腰痛と下肢のしびれ。休むと楽になる。", "右膝の痛み、階段の下りで増悪。",
                            "痛みはNRS 3/10まで軽減。"),
                    pick(r, "SLR陰性。下肢筋力低下なし。", "右膝内側に圧痛、関節水腫なし。", "歩行は安定。") + "BP " + sbp + "/"
                            + dbp + " mmHg。",
                    pick(r, "腰部脊柱管狭窄症。", "変形性膝関節症（KL分類 II）。", "経過良好。"),
                    pick(r, "リハビリ継続。", "大腿四頭筋訓練を指導。", "消炎鎮痛薬を継続。") + weeks + "週後再診。"};
            default -> new String[]{ // 精神科
                    pick(r, "気分の落ち込みは少し軽くなった。", "寝つきが悪く、中途覚醒が2回ある。", "仕事に復帰し、疲れやすい。"),
                    pick(r, "表情はやや硬いが疎通良好。", "希死念慮なし。", "服薬は遵守できている。"),
                    pick(r, "うつ病、改善傾向。", "不眠症、睡眠衛生は概ね守れている。", "状態は安定。"),
                    "現行処方継続。" + pick(r, "睡眠日誌を継続。", "負担の少ない生活リズムを確認。", "家族とも面談予定。") + weeks + "週後再診。"};
        };
    }

    /** Why a finalized note was amended. */
    static String amendReason(Random r) {
        return pick(r, "検査値の転記誤りを訂正", "記載漏れの追記", "処方内容の記載誤りを訂正", "誤字の訂正");
    }

    /** The amended text: a plausible correction in O or P. */
    static String[] amend(String[] soap, Random r) {
        String[] out = soap.clone();
        if (r.nextBoolean()) {
            out[1] = out[1] + "（追記）体重 " + (50 + r.nextInt(30)) + " kg。";
        } else {
            out[3] = out[3].replace("週後再診", "週後再診（日程を訂正）");
        }
        return out;
    }
}
