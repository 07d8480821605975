//! What the command line tells about itself: shell completion scripts
//! (`driftaudit completions SHELL`, clap_complete) and the manual page
//! (`driftaudit man`, clap_mangen), both made from the same clap definition
//! as `--help`, so they cannot fall behind it.

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;

use crate::args::Cli;

/// The completion script of `shell`, for `source <(driftaudit completions bash)`
/// or the shell's completion directory.
pub fn completions(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "driftaudit", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}

/// One roff page (`driftaudit man | man -l -`): the top-level page, then a
/// section per subcommand, nested ones included, with its synopsis,
/// description and every option.
pub fn man_page() -> String {
    let mut command = Cli::command();
    command.build();
    let mut page = Vec::new();
    Man::new(command.clone())
        .render(&mut page)
        .expect("writing to memory");
    let mut page = String::from_utf8_lossy(&page).into_owned();
    // The subcommand list points at one page per subcommand (driftaudit-scan(1));
    // here they are sections of this one page.
    for sub in command.get_subcommands() {
        let name = sub.get_name().replace('-', "\\-");
        page = page.replace(
            &format!("driftaudit\\-{name}(1)"),
            &format!("\\fBdriftaudit {name}\\fR"),
        );
    }
    for sub in command.get_subcommands() {
        subcommand_sections(sub, &mut page);
    }
    page
}

fn subcommand_sections(command: &clap::Command, page: &mut String) {
    if command.get_name() == "help" {
        return;
    }
    let name = command
        .get_bin_name()
        .unwrap_or_else(|| command.get_name())
        .to_string();
    let man = Man::new(command.clone());
    let mut roff = Vec::new();
    let rendered = man
        .render_synopsis_section(&mut roff)
        .and_then(|()| man.render_description_section(&mut roff))
        .and_then(|()| {
            if command.get_arguments().any(|a| !a.is_hide_set()) {
                man.render_options_section(&mut roff)
            } else {
                Ok(())
            }
        });
    rendered.expect("writing to memory");
    page.push_str(&format!(".SH \"{}\"\n", name.to_uppercase()));
    // The subcommand's own sections become subsections of its section.
    for line in String::from_utf8_lossy(&roff).lines() {
        match line.strip_prefix(".SH ") {
            Some("SYNOPSIS") | Some("DESCRIPTION") => {}
            Some(heading) => page.push_str(&format!(".SS {heading}\n")),
            None => {
                page.push_str(line);
                page.push('\n');
            }
        }
    }
    for sub in command.get_subcommands() {
        subcommand_sections(sub, page);
    }
}
