//! Bulk import of people and spaces from CSV over HTTP, on SQLite and PostgreSQL: everything or
//! nothing, every bad line named, seats enforced for the whole file, who may import.

use latchkey_domain::{OrgId, Scope};
use latchkey_store::repo::{MailRepo, MembershipRepo};
use latchkey_testkit::fixtures::{self, FIXTURE_PASSWORD, Person};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    a_people_file_invites_everyone_with_profiles_and_groups,
    a_bad_row_at_line_9999_imports_nothing_and_names_the_line,
    rows_that_clash_with_the_organisation_are_all_reported_and_nothing_is_written,
    seats_are_enforced_for_the_whole_file,
    a_spaces_file_creates_paths_and_refuses_existing_spaces,
    only_org_admins_import_and_only_csv,
);

struct World {
    server: TestServer,
    org: OrgId,
    admin: ApiSession,
}

async fn signed_in(server: &TestServer, person: &Person) -> anyhow::Result<ApiSession> {
    ApiSession::sign_in(
        server,
        &person.email,
        FIXTURE_PASSWORD,
        person.code(&server.app).as_deref(),
    )
    .await
}

async fn world(db: TestDb, seats: i64) -> anyhow::Result<World> {
    let server = TestServer::start(db).await?;
    let org = fixtures::organisation(&server.app, "Acme Tower", seats).await?;
    let admin = fixtures::admin_of(&server.app, org, "ada@a.example").await?;
    let admin = signed_in(&server, &admin).await?;
    Ok(World { server, org, admin })
}

impl World {
    fn path(&self, rest: &str) -> String {
        format!("/api/v1/orgs/{}{rest}", self.org)
    }

    async fn upload(
        &self,
        s: &ApiSession,
        what: &str,
        csv: &str,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let response = s
            .request(Method::POST, &self.path(&format!("/{what}/imports")))
            .header("content-type", "text/csv; charset=utf-8")
            .body(csv.to_owned())
            .send()
            .await?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Memberships and pending mail of the organisation: what an import would change.
    async fn footprint(&self) -> anyhow::Result<(usize, i64)> {
        let mut tx = self.server.app.store.read().await?;
        let members = tx.memberships(self.org).await?.len();
        let (pending, _, _) = tx.mail_counts(Scope::Tenant(self.org)).await?;
        Ok((members, pending))
    }
}

fn lines(problem: &Value) -> Vec<u64> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["line"].as_u64()).collect())
        .unwrap_or_default()
}

async fn a_people_file_invites_everyone_with_profiles_and_groups(db: TestDb) -> anyhow::Result<()> {
    let w = world(db, 50).await?;
    let (status, group) = w
        .admin
        .call(
            Method::POST,
            &w.path("/groups"),
            Some(json!({"name": "Night staff"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let csv = "email,display_name,role,employee_number,labels,groups\n\
               mia@a.example,Mia Member,,E-100,reception;night,night staff\n\
               olga@a.example,\"Olga, Admin\",org_admin,,,\n\
               nils@a.example,Nils,member,E-101,,\n";
    let before = w.footprint().await?;
    let (status, body) = w.upload(&w.admin, "people", csv).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["rows"], 3);
    let invited: Vec<String> = body["invited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(invited.len(), 3);
    let after = w.footprint().await?;
    assert_eq!(
        after,
        (before.0 + 3, before.1 + 3),
        "three invited memberships, three e-mails"
    );
    // Mia: profile and group.
    let (_, profile) = w
        .admin
        .call(
            Method::GET,
            &w.path(&format!("/members/{}/profile", invited[0])),
            None,
        )
        .await?;
    assert_eq!(profile["employee_number"], "E-100", "{profile}");
    assert_eq!(
        profile["labels"],
        json!(["night", "reception"]),
        "{profile}"
    );
    assert_eq!(profile["status"], "invited");
    let (_, members) = w
        .admin
        .call(
            Method::GET,
            &w.path(&format!(
                "/groups/{}/members",
                group["id"].as_str().unwrap()
            )),
            None,
        )
        .await?;
    assert_eq!(members["members"], json!([invited[0]]), "{members}");
    // Olga was invited as an org admin.
    let (_, olga) = w
        .admin
        .call(
            Method::GET,
            &w.path(&format!("/members/{}/profile", invited[1])),
            None,
        )
        .await?;
    assert_eq!(olga["role"], "org_admin");
    w.server.shutdown().await;
    Ok(())
}

async fn a_bad_row_at_line_9999_imports_nothing_and_names_the_line(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db, 20_000).await?;
    let mut csv = String::from("email,display_name\n");
    for n in 2..=10_000 {
        if n == 9_999 {
            csv.push_str("person9999@,Broken Address\n");
        } else {
            csv.push_str(&format!("person{n}@a.example,Person {n}\n"));
        }
    }
    let before = w.footprint().await?;
    let (status, problem) = w.upload(&w.admin, "people", &csv).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(lines(&problem), [9_999]);
    assert_eq!(problem["errors"][0]["field"], "email");
    assert!(
        problem["detail"].as_str().unwrap().contains("line 9999"),
        "{problem}"
    );
    assert_eq!(w.footprint().await?, before, "nothing imported");
    w.server.shutdown().await;
    Ok(())
}

async fn rows_that_clash_with_the_organisation_are_all_reported_and_nothing_is_written(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db, 50).await?;
    fixtures::member_of(&w.server.app, w.org, "mia@a.example").await?;
    let (status, _) = w
        .upload(
            &w.admin,
            "people",
            "email,display_name,employee_number\nzoe@a.example,Zoe,E-7\n",
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let before = w.footprint().await?;
    let csv = "email,display_name,employee_number,groups\n\
               new@a.example,New Person,,\n\
               MIA@a.example,Mia Again,,\n\
               other@a.example,Other,E-7,\n\
               third@a.example,Third,,Nonexistent\n";
    let (status, problem) = w.upload(&w.admin, "people", csv).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(lines(&problem), [3, 4, 5], "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "employee_number", "groups"]);
    assert_eq!(
        w.footprint().await?,
        before,
        "the good first row was not imported either"
    );
    w.server.shutdown().await;
    Ok(())
}

async fn seats_are_enforced_for_the_whole_file(db: TestDb) -> anyhow::Result<()> {
    // Five seats: the admin holds one, so four are free.
    let w = world(db, 5).await?;
    let five: String = (1..=5).map(|n| format!("p{n}@a.example,P {n}\n")).collect();
    let before = w.footprint().await?;
    let (status, problem) = w
        .upload(&w.admin, "people", &format!("email,display_name\n{five}"))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let detail = problem["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("5 people") && detail.contains("only 4"),
        "{detail}"
    );
    assert_eq!(w.footprint().await?, before);
    let four: String = (1..=4).map(|n| format!("p{n}@a.example,P {n}\n")).collect();
    let (status, _) = w
        .upload(&w.admin, "people", &format!("email,display_name\n{four}"))
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    w.server.shutdown().await;
    Ok(())
}

async fn a_spaces_file_creates_paths_and_refuses_existing_spaces(db: TestDb) -> anyhow::Result<()> {
    let w = world(db, 50).await?;
    let (status, _) = w
        .admin
        .call(
            Method::POST,
            &w.path("/sites"),
            Some(json!({"name": "HQ", "time_zone": "Asia/Tokyo"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    // The room first, its building later: the building row gives the intermediate level its kind.
    let csv = "site,path,kind,labels\n\
               HQ,Main/3F/Room 301,room,quiet\n\
               hq,Main,building,\n\
               HQ,Annex,building,\n";
    let (status, body) = w.upload(&w.admin, "spaces", csv).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["rows"], 3);
    assert_eq!(body["spaces_created"].as_array().unwrap().len(), 4);
    let (_, spaces) = w
        .admin
        .call(Method::GET, &w.path("/spaces?limit=200"), None)
        .await?;
    let kinds: std::collections::BTreeMap<String, (String, Option<String>)> = spaces["spaces"]
        .as_array()
        .or(spaces["items"].as_array())
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                (
                    s["kind"].as_str().unwrap().to_owned(),
                    s["parent_id"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect();
    assert_eq!(kinds["Main"].0, "building");
    assert_eq!(kinds["3F"].0, "area");
    assert_eq!(kinds["Room 301"].0, "room");
    assert!(kinds["Main"].1.is_none() && kinds["3F"].1.is_some());
    // Existing spaces and unknown sites are refused; nothing is created.
    let (status, problem) = w
        .upload(
            &w.admin,
            "spaces",
            "site,path\nHQ,Main/3F\nHQ,Main/4F\nNowhere,Lobby\n",
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(lines(&problem), [2, 4]);
    let (_, again) = w
        .admin
        .call(Method::GET, &w.path("/spaces?limit=200"), None)
        .await?;
    assert_eq!(again, spaces, "4F was not created");
    w.server.shutdown().await;
    Ok(())
}

async fn only_org_admins_import_and_only_csv(db: TestDb) -> anyhow::Result<()> {
    let w = world(db, 50).await?;
    let member = fixtures::member_of(&w.server.app, w.org, "mia@a.example").await?;
    let member = signed_in(&w.server, &member).await?;
    let org_b = fixtures::organisation(&w.server.app, "Bravo", 10).await?;
    let admin_b = fixtures::admin_of(&w.server.app, org_b, "bea@b.example").await?;
    let admin_b = signed_in(&w.server, &admin_b).await?;
    let csv = "email,display_name\nnew@a.example,New\n";
    assert_eq!(
        w.upload(&member, "people", csv).await?.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.upload(&admin_b, "people", csv).await?.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.upload(&ApiSession::anonymous(&w.server), "people", csv)
            .await?
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        w.upload(&member, "spaces", "site,path\nHQ,Main\n").await?.0,
        StatusCode::FORBIDDEN
    );
    // JSON posted here is refused, not read as a file.
    let (status, _) = w
        .admin
        .call(
            Method::POST,
            &w.path("/people/imports"),
            Some(json!({"email": "x@a.example"})),
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    w.server.shutdown().await;
    Ok(())
}
