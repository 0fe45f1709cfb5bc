// Command goopscharm is a charm written with goops v0.0.23: the provider
// side publishes a greeting and a secret in its application databag, the
// requirer side asks with its unit databag and reads both back.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/gruyaume/goops"
)

type config struct {
	Greeting string `json:"greeting"`
}

func main() {
	env := goops.ReadEnv()
	var err error
	switch {
	case env.ActionName == "greet":
		err = greet()
	case env.HookName == "update-status":
		err = updateStatus()
	default:
		err = reconcile(env)
	}
	if err != nil {
		goops.LogErrorf("%s: %v", env.HookName+env.ActionName, err)
		os.Exit(1)
	}
}

// updateStatus is the benchmark's hook: three tool calls.
func updateStatus() error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	leader, err := goops.IsLeader()
	if err != nil {
		return err
	}
	return goops.SetUnitStatus(goops.StatusActive, fmt.Sprintf("greeting=%s leader=%t", c.Greeting, leader))
}

func greet() error {
	var p struct {
		Name  string `json:"name"`
		Times int    `json:"times"`
	}
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	if p.Name == "nobody" {
		return goops.FailActionf("cannot greet %s", p.Name)
	}
	_ = goops.ActionLogf("greeting %s", p.Name)
	return goops.SetActionResults(map[string]string{"message": strings.TrimSpace(strings.Repeat("hello "+p.Name+" ", p.Times))})
}

func reconcile(env goops.Environment) error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	if err := goops.SetState("greeting", c.Greeting); err != nil {
		return err
	}
	leader, err := goops.IsLeader()
	if err != nil {
		return err
	}
	msg := "greeting=" + c.Greeting
	if leader {
		if err := provide(c); err != nil {
			return err
		}
	}
	got, err := consume(env)
	if err != nil {
		return err
	}
	if got != "" {
		msg = got
	}
	return goops.SetUnitStatus(goops.StatusActive, msg)
}

// provide publishes the greeting and the secret's id on every db relation.
func provide(c config) error {
	ids, err := goops.GetRelationIDs("db")
	if err != nil || len(ids) == 0 {
		return err
	}
	content := map[string]string{"password": "pw-" + c.Greeting}
	uri := ""
	if _, err := goops.GetSecretByLabel("db-creds", false, false); err != nil {
		out, err := goops.AddSecret(&goops.AddSecretOptions{Content: content, Label: "db-creds", Owner: goops.OwnerApplication})
		if err != nil {
			return err
		}
		uri = strings.TrimSpace(out)
	} else {
		info, err := goops.GetSecretInfoByLabel("db-creds")
		if err != nil {
			return err
		}
		for id := range info {
			uri = "secret:" + id
		}
		if err := goops.SetSecret(&goops.SetSecretOptions{ID: uri, Content: content}); err != nil {
			return err
		}
	}
	for _, id := range ids {
		units, err := goops.ListRelationUnits(id)
		if err != nil {
			return err
		}
		var wants []string
		for _, u := range units {
			data, err := goops.GetUnitRelationData(id, u)
			if err != nil {
				return err
			}
			wants = append(wants, data["want"])
		}
		if err := goops.SetAppRelationData(id, map[string]string{"greeting": c.Greeting, "secret-id": uri, "wants": strings.Join(wants, ",")}); err != nil {
			return err
		}
		if err := goops.GrantSecretToRelation(uri, id); err != nil {
			return err
		}
	}
	return nil
}

// consume asks on every backend relation and reads the provider's answer.
func consume(env goops.Environment) (string, error) {
	ids, err := goops.GetRelationIDs("backend")
	if err != nil || len(ids) == 0 {
		return "", err
	}
	id := ids[0]
	if err := goops.SetUnitRelationData(id, map[string]string{"want": "db-" + strings.ReplaceAll(env.UnitName, "/", "-")}); err != nil {
		return "", err
	}
	app, err := goops.GetRelationApp(id)
	if err != nil {
		return "", err
	}
	data, err := goops.GetAppRelationData(id, app)
	if err != nil {
		return "", err
	}
	if data["secret-id"] == "" {
		return "waiting for " + app, nil
	}
	secret, err := goops.GetSecretByID(data["secret-id"], false, true)
	if err != nil {
		return "", err
	}
	check := "mismatch"
	if secret["password"] == "pw-"+data["greeting"] {
		check = "ok"
	}
	return fmt.Sprintf("from %s: greeting=%s secret=%s", app, data["greeting"], check), nil
}
