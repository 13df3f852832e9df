//! The on-site list's printout: a heading (site, "On site now", the time, the count), then one entry per person (name; ID, class / room, checked in at HH:MM) with a box to tick at the roll call, wrapped to the printer's media width and drawn into one 1-bit bitmap as long as the list needs.

use super::bitmap::Bitmap;
use super::font::{Fonts, Weight};
use super::profile::Media;
use crate::domain::on_site::{OnSiteList, OnSitePerson, hhmm};

/// One thing in the printout, top to bottom.
enum Row {
    /// Lines of one size and weight, `indent` pixels in from the margin; `tick` draws the
    /// roll call's box beside the first line.
    Text {
        lines: Vec<String>,
        weight: Weight,
        px: f32,
        indent: f32,
        tick: bool,
    },
    Rule,
    Gap(u32),
}

/// The heading's third line: "2026-11-25 09:12 · 3 people".
fn when_and_count(list: &OnSiteList) -> String {
    let n = list.people.len();
    let people = if n == 1 {
        "1 person".to_string()
    } else {
        format!("{n} people")
    };
    format!(
        "{} {} · {people}",
        list.generated_at.date(),
        hhmm(list.generated_at)
    )
}

/// "ID ABCDE-FGHJK · Working at heights / Room 2 · checked in at 09:02".
fn details(p: &OnSitePerson) -> String {
    let mut s = format!("ID {} · {} / {}", p.user_id, p.class_title, p.room);
    if let Some(t) = p.checked_in_at {
        s.push_str(&format!(" · checked in at {}", hhmm(t)));
    }
    s
}

/// The characters of the list's text that `fonts` lack (they would print as boxes).
pub fn missing_glyphs(fonts: &Fonts, list: &OnSiteList) -> Vec<char> {
    let details: Vec<String> = list.people.iter().map(details).collect();
    let names = list
        .people
        .iter()
        .flat_map(|p| [p.given_name.as_str(), p.family_name.as_str()]);
    fonts.missing(
        std::iter::once(list.site.as_str())
            .chain(names)
            .chain(details.iter().map(String::as_str)),
    )
}

/// Draw `list` for a printer whose media is `media`: its full width, as tall as the list.
pub fn render_list(fonts: &Fonts, list: &OnSiteList, media: &Media) -> Bitmap {
    let mm = media.dots_per_mm();
    let width = media.width_dots;
    let margin = (2.0 * mm).round() as u32;
    let inner = width.saturating_sub(2 * margin) as f32;
    let text = |s: &str, weight, px: f32, indent: f32, tick| Row::Text {
        lines: fonts.wrap(s, weight, px, (inner - indent).max(px)),
        weight,
        px,
        indent,
        tick,
    };
    let mut rows = vec![
        text(&list.site, Weight::Bold, 3.5 * mm, 0.0, false),
        text("On site now", Weight::Bold, 5.0 * mm, 0.0, false),
        text(&when_and_count(list), Weight::Regular, 3.0 * mm, 0.0, false),
        Row::Gap((1.0 * mm) as u32),
        Row::Rule,
        Row::Gap((2.0 * mm) as u32),
    ];
    if list.people.is_empty() {
        rows.push(text("Nobody checked in", Weight::Bold, 3.5 * mm, 0.0, false));
    }
    let indent = 5.0 * mm;
    for p in &list.people {
        let name = format!("{}, {}", p.family_name, p.given_name);
        rows.push(text(&name, Weight::Bold, 3.5 * mm, indent, true));
        rows.push(text(&details(p), Weight::Regular, 2.8 * mm, indent, false));
        rows.push(Row::Gap((2.0 * mm) as u32));
    }
    rows.push(Row::Rule);
    rows.push(Row::Gap((1.0 * mm) as u32));
    rows.push(text(
        &format!("End of list · {}", when_and_count(list)),
        Weight::Regular,
        2.5 * mm,
        0.0,
        false,
    ));

    let line_height = |weight, px| {
        let (a, d) = fonts.metrics(weight, px);
        (a + d) * 1.1
    };
    let row_height = |row: &Row| match row {
        Row::Text {
            lines, weight, px, ..
        } => (line_height(*weight, *px) * lines.len() as f32).ceil() as u32,
        Row::Rule => 2,
        Row::Gap(g) => *g,
    };
    let height = margin * 2 + rows.iter().map(row_height).sum::<u32>();
    let mut bitmap = Bitmap::new(width, height);
    let mut y = margin;
    for row in &rows {
        match row {
            Row::Text {
                lines,
                weight,
                px,
                indent,
                tick,
            } => {
                let (ascent, _) = fonts.metrics(*weight, *px);
                let lh = line_height(*weight, *px);
                if *tick {
                    draw_box(
                        &mut bitmap,
                        margin,
                        y,
                        (0.85 * ascent) as u32,
                        (0.15 * ascent) as u32,
                    );
                }
                for (i, line) in lines.iter().enumerate() {
                    let baseline = y as f32 + ascent + lh * i as f32;
                    fonts.draw(
                        &mut bitmap,
                        line,
                        *weight,
                        *px,
                        (margin as f32 + indent).round(),
                        baseline.round(),
                    );
                }
            }
            Row::Rule => bitmap.fill_rect(i64::from(margin), i64::from(y), inner as u32, 2),
            Row::Gap(_) => {}
        }
        y += row_height(row);
    }
    bitmap
}

/// An empty square of side `side`, `top_pad` below `y`, at the left margin: ticked by hand.
fn draw_box(bitmap: &mut Bitmap, left: u32, y: u32, side: u32, top_pad: u32) {
    let (x, y, s) = (i64::from(left), i64::from(y + top_pad), side.max(6));
    let t = 2;
    bitmap.fill_rect(x, y, s, t);
    bitmap.fill_rect(x, y + i64::from(s) - i64::from(t), s, t);
    bitmap.fill_rect(x, y, t, s);
    bitmap.fill_rect(x + i64::from(s) - i64::from(t), y, t, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::profile::Profiles;
    use time::macros::datetime;

    fn person(given: &str, family: &str) -> OnSitePerson {
        OnSitePerson {
            given_name: given.into(),
            family_name: family.into(),
            user_id: "ABCDE-FGHJK".into(),
            class_title: "Working at heights, practical".into(),
            room: "Room 2".into(),
            checked_in_at: Some(datetime!(2026-11-25 09:02 +01:00)),
        }
    }

    fn list(people: Vec<OnSitePerson>) -> OnSiteList {
        OnSiteList {
            site: "North gate".into(),
            generated_at: datetime!(2026-11-25 09:12 +01:00),
            people,
        }
    }

    fn media(profile: &str) -> Media {
        Profiles::embedded().unwrap().get(profile).unwrap().media
    }

    fn ink_rows(b: &Bitmap) -> usize {
        (0..b.height())
            .filter(|&y| (0..b.width()).any(|x| b.get(x, y)))
            .count()
    }

    #[test]
    fn an_empty_list_still_prints_its_heading() {
        let fonts = Fonts::new(None).unwrap();
        let m = media("generic-escpos");
        let b = render_list(&fonts, &list(vec![]), &m);
        assert_eq!(b.width(), m.width_dots);
        assert!(ink_rows(&b) > 50, "heading drawn");
        assert_eq!(when_and_count(&list(vec![])), "2026-11-25 09:12 · 0 people");
    }

    #[test]
    fn the_printout_grows_with_the_people_on_it() {
        let fonts = Fonts::new(None).unwrap();
        let m = media("generic-escpos");
        let empty = render_list(&fonts, &list(vec![]), &m).height();
        let with = |n: usize| {
            let names = [("José", "Núñez Peña"), ("Zoë", "O'Brien"), ("Li", "Na")];
            let people = names[..n].iter().map(|(g, f)| person(g, f)).collect();
            render_list(&fonts, &list(people), &m).height()
        };
        let (one, two, three) = (with(1), with(2), with(3));
        assert!(one > empty, "{one} > {empty}");
        assert!(two > one && three > two, "{one} < {two} < {three}");
        // Each entry of one name line and one details line costs the same height.
        assert!((three - two).abs_diff(two - one) <= 1, "{one} {two} {three}");
    }

    #[test]
    fn long_entries_wrap_on_a_narrow_printer_instead_of_running_off() {
        let fonts = Fonts::new(None).unwrap();
        let narrow = media("zjiang-pos-5890");
        let short = render_list(&fonts, &list(vec![person("Li", "Na")]), &narrow).height();
        let long = render_list(
            &fonts,
            &list(vec![person(
                "Maximilian-Alexander",
                "von Hohenzollern-Sigmaringen",
            )]),
            &narrow,
        );
        assert_eq!(long.width(), narrow.width_dots);
        assert!(long.height() > short, "the long name wraps onto more lines");
    }

    #[test]
    fn names_in_any_script_render() {
        let fonts = Fonts::new(None).unwrap();
        let m = media("generic-simple");
        let people = vec![
            person("Zofia", "Łukasiewicz-Wróbel"),
            person("Алексей", "Смирнов"),
            person("Ελένη", "Παπαδοπούλου"),
            person("أحمد", "السيد"),
            person("伟", "王"),
            person("Nguyễn", "Thị Minh Khai"),
        ];
        let b = render_list(&fonts, &list(people), &m);
        assert!(ink_rows(&b) > 100);
        b.to_png().unwrap();
    }
}
